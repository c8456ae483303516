"""Which statements of a bucket policy make the bucket public, and why (pure, no AWS).

A statement is public when it is an Allow to everyone (`"*"`, `{"AWS": "*"}`, a principal with a
wildcard, or any `NotPrincipal`) that no condition narrows to fixed values: no wildcard and no
policy variable, as S3's "The meaning of public" says (docs/s3_public_remediation.md, Conditions
that narrow). Deny statements never make a bucket public and are always kept.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Condition keys that narrow access when compared with fixed values (lower-cased: IAM keys are
# case-insensitive). S3's list of what keeps a bucket policy non-public ("The meaning of public",
# docs/s3_public_remediation.md), plus the principal keys it counts as a fixed principal.
# aws:SourceOrgID and aws:SourceOrgPaths are not on S3's list: they never narrow here.
NARROWING_KEYS = frozenset({
    "aws:sourceip",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
})
ACCOUNT_ID = re.compile(r"\d{12}")
# An access point ARN with its account fixed: S3 allows a wildcard in the access point name only.
ACCESS_POINT_ARN = re.compile(r"arn:[a-z-]+:s3:[a-z0-9-]+:\d{12}:accesspoint/.+")
# Operators that compare with the listed values (negations and *IfExists never narrow: a request
# that lacks the key, or has any other value, passes them).
POSITIVE_OPERATORS = frozenset({
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "ipaddress",
})
# Narrower than this, a source-IP range is a fixed range; wider, it is the internet in practice.
MIN_IPV4_PREFIX = 8
MIN_IPV6_PREFIX = 32


class PolicyError(ValueError):
    """The policy is not a valid IAM policy document; nothing is changed on such a bucket."""


@dataclass(frozen=True, slots=True)
class PublicStatement:
    index: int
    sid: str | None
    reason: str
    statement: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"


@dataclass(frozen=True, slots=True)
class PolicyAnalysis:
    document: Mapping[str, Any]
    statements: tuple[Mapping[str, Any], ...]
    public: tuple[PublicStatement, ...]

    def without_public(self) -> dict[str, Any] | None:
        """The policy with only its public statements removed; None when nothing would remain."""
        drop = {finding.index for finding in self.public}
        kept = [statement for index, statement in enumerate(self.statements) if index not in drop]
        if not kept:
            return None
        return {**self.document, "Statement": kept}


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def parse_policy(text: str) -> tuple[dict[str, Any], tuple[Mapping[str, Any], ...]]:
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"policy is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PolicyError(f"policy={document!r:.80} is invalid: expected a JSON object")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyError(f"Statement={statements!r:.80} is invalid: expected a list of objects")
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            raise PolicyError(f"Statement[{index}]={statement!r:.80} is invalid: "
                              "expected an object")
    return document, tuple(statements)


def _wildcard(value: Any) -> bool:
    """A principal value that is not one fixed string."""
    return not isinstance(value, str) or "*" in value or "?" in value


def _fixed(value: Any) -> str | None:
    """The value as text when it names one fixed thing: a string without a wildcard or a policy
    variable (`${aws:username}` is true for every caller), or a whole number (IAM compares a JSON
    number as its digits: `"aws:SourceAccount": 111122223333`). None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str) or not value:
        return None
    if "*" in value or "?" in value or "${" in value:
        return None
    return value


def _fixed_value(name: str, value: Any) -> bool:
    if name == "s3:dataaccesspointaccount":
        text = _fixed(value)
        return text is not None and ACCOUNT_ID.fullmatch(text) is not None
    if name == "s3:dataaccesspointarn":
        # The pattern leaves no room for a wildcard before the access point's name.
        return (isinstance(value, str) and "${" not in value
                and ACCESS_POINT_ARN.fullmatch(value) is not None)
    return _fixed(value) is not None


def everyone(statement: Mapping[str, Any]) -> str | None:
    """How the statement's principal reaches everyone, or None for fixed principals."""
    if "NotPrincipal" in statement:
        return "NotPrincipal (everyone but the listed principals)"
    principal = statement.get("Principal")
    if principal == "*":
        return 'Principal "*"'
    if isinstance(principal, dict):
        for kind, values in principal.items():
            for value in _values(values):
                if value == "*":
                    return f'Principal {{"{kind}": "*"}}'
                if _wildcard(value):
                    return f"wildcard principal {kind} {value!r}"
    elif principal is not None:
        return f"wildcard principal {principal!r}"
    return None


def _fixed_ip_range(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    minimum = MIN_IPV4_PREFIX if network.version == 4 else MIN_IPV6_PREFIX
    return network.prefixlen >= minimum


def narrowing(condition: Any) -> str | None:
    """The first condition that pins the statement to fixed callers or networks, or None."""
    if not isinstance(condition, dict):
        return None
    for operator, tests in condition.items():
        if not isinstance(operator, str) or not isinstance(tests, dict):
            continue
        op = operator.lower()
        if op.startswith("forallvalues:"):
            continue  # true for a request without the key
        op = op.removeprefix("foranyvalue:")
        if op not in POSITIVE_OPERATORS:
            continue
        for key, raw in tests.items():
            name = str(key).lower()
            values = _values(raw)
            if name not in NARROWING_KEYS or not values:
                continue
            if name == "aws:sourceip":
                if op == "ipaddress" and all(_fixed_ip_range(value) for value in values):
                    return f"{operator} {key}"
            elif op != "ipaddress" and all(_fixed_value(name, value) for value in values):
                return f"{operator} {key}"
    return None


def analyse(text: str) -> PolicyAnalysis:
    """Raises PolicyError for a document that is not a policy (the caller changes nothing)."""
    document, statements = parse_policy(text)
    public: list[PublicStatement] = []
    for index, statement in enumerate(statements):
        if statement.get("Effect") != "Allow":
            continue
        who = everyone(statement)
        if who is None or narrowing(statement.get("Condition")) is not None:
            continue
        actions = ", ".join(str(a) for a in _values(statement.get("Action",
                                                                  statement.get("NotAction"))))
        sid = statement.get("Sid") if isinstance(statement.get("Sid"), str) else None
        reason = f"allows {who} {actions} with no narrowing condition"
        public.append(PublicStatement(index, sid, reason, statement))
    return PolicyAnalysis(document, statements, tuple(public))


def describe(findings: Sequence[PublicStatement]) -> str:
    return "; ".join(f"{finding.label} {finding.reason}" for finding in findings)
