"""IAM policy documents as they arrive (dict, JSON, URL-encoded JSON) read into statements."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


class PolicyError(ValueError):
    """The document is not an IAM policy; nothing was analysed (and nothing is changed)."""


def load_document(value: object) -> dict[str, Any]:
    """A policy document from what IAM, boto3 or CloudTrail hand over: boto3 decodes
    GetAccountAuthorizationDetails' and GetPolicyVersion's documents to dicts, the raw API and
    some SDK paths return URL-encoded JSON, CloudTrail's requestParameters carry a JSON string."""
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"policy document {type(value).__name__} is not a JSON object")
    text = value.strip()
    if not text.startswith("{"):
        text = unquote(text)  # URL-encoded JSON starts with %7B
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"policy document is not JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(parsed, dict):
        raise PolicyError("policy document is not a JSON object")
    return parsed


def _strings(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise PolicyError(f"{name} {value!r} is not a string or a list of strings")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement, its lists normalised (a string becomes a one-item tuple)."""

    index: int
    raw: Mapping[str, Any] = field(compare=False)
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: object
    not_principal: object
    condition: Mapping[str, Mapping[str, Any]]
    source: str = ""  # the policy it belongs to, when statements of several are judged together

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def label(self) -> str:
        """How a finding names the statement: its Sid, else its position."""
        sid = self.raw.get("Sid")
        label = f"statement {self.index} ({sid})" if isinstance(sid, str) and sid else (
            f"statement {self.index}")
        return f"{label} of {self.source}" if self.source else label


def statements(document: Mapping[str, Any]) -> list[Statement]:
    """The document's statements; Statement may be one object or a list."""
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        items: list[Any] = [raw]
    elif isinstance(raw, list):
        items = raw
    else:
        raise PolicyError(f"Statement {raw!r} is not an object or a list")
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise PolicyError(f"statement {index} is not an object")
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f"statement {index} Effect {effect!r} is not Allow or Deny")
        condition = item.get("Condition") or {}
        if not isinstance(condition, Mapping):
            raise PolicyError(f"statement {index} Condition is not an object")
        result.append(Statement(
            index=index, raw=item, effect=effect,
            actions=_strings(item.get("Action"), "Action"),
            not_actions=_strings(item.get("NotAction"), "NotAction"),
            resources=_strings(item.get("Resource"), "Resource"),
            not_resources=_strings(item.get("NotResource"), "NotResource"),
            principal=item.get("Principal"), not_principal=item.get("NotPrincipal"),
            condition={str(op): dict(v) if isinstance(v, Mapping) else {}
                       for op, v in condition.items()}))
    return result


def condition_values(statement: Statement, key: str) -> dict[str, tuple[str, ...]]:
    """Operator -> values of condition `key` (condition keys are case-insensitive)."""
    found: dict[str, tuple[str, ...]] = {}
    for operator, pairs in statement.condition.items():
        for name, value in pairs.items():
            if name.lower() == key.lower():
                values = value if isinstance(value, list) else [value]
                found[operator] = tuple(str(v) for v in values)
    return found
