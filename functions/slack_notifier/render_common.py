"""What every renderer shares: the Incoming message, and safe reading of untrusted payloads
(text, numbers, regions, account ids, ARNs) before anything is put in a link."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_notifier.console_links import partition_of, valid_account, valid_region
from slack_notifier.notice import Link

JsonObject = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message to render: parsed JSON (or text), with the SNS subject when there was one."""

    payload: Any
    subject: str | None = None
    region: str | None = None  # where it came from, when the payload does not say
    attributes: Mapping[str, str] = field(default_factory=dict)


def text(value: Any) -> str:
    """A scalar as text: a string as it is, a number as Python writes it, a boolean as
    `true`/`false`. Anything else (null, an object or a list where a scalar is expected) is
    "", so that renderers leave the part out rather than print `None` or a Python repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        try:
            return str(value)
        except ValueError:  # an integer past Python's digit limit
            return ""
    return ""


def joined(*parts: Any, sep: str = " ") -> str:
    """The parts that are not empty, as text, joined by `sep`."""
    return sep.join(t for t in (text(p) for p in parts) if t)


def obj(value: Any) -> JsonObject:
    """A mapping, or an empty one when the payload has something else there."""
    return value if isinstance(value, Mapping) else {}


def objects(value: Any) -> list[JsonObject]:
    """The mappings of a list (anything else in it, or a non-list, is ignored)."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def link(label: str, url: str | None) -> Link | None:
    return Link(label, url) if url else None


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(value: Any) -> Arn | None:
    """`arn:<partition>:<service>:<region>:<account>:<resource>` with a valid region (matching
    the partition) and a 12-digit account; None for anything else."""
    if not isinstance(value, str) or not value.isascii():
        return None
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[2] or not parts[5]:
        return None
    _, partition, service, region, account, resource = parts
    valid = valid_region(region)
    if valid is None or valid_account(account) is None or partition_of(valid) != partition:
        return None
    return Arn(partition, service, valid, account, resource)


def region_or(*candidates: Any) -> str | None:
    """The first candidate that is a valid region name."""
    for candidate in candidates:
        region = valid_region(candidate)
        if region:
            return region
    return None


def parse_json_text(value: Any, limit: int = 100_000) -> Any:
    """A JSON string inside a payload (e.g. an alarm's reasonData), or None."""
    if not isinstance(value, str) or len(value) > limit:
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None


def money(value: Any) -> str:
    amount = number(value)
    return "?" if amount is None else f"{amount:,.2f}"
