"""`opskit check-policy`: the public-S3 verdict the remediation would reach on a bucket policy
(and, optionally, an ACL and Block Public Access settings), statement by statement."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opskit_cli.errors import UsageError
from s3_public_remediation.access import BlockPublicAccess, public_grants
from s3_public_remediation.planner import BucketState, find
from s3_public_remediation.policy import PolicyError, analyse, everyone, narrowing

BLOCK_SETTINGS = {"BlockPublicAcls": "block_public_acls",
                  "IgnorePublicAcls": "ignore_public_acls",
                  "BlockPublicPolicy": "block_public_policy",
                  "RestrictPublicBuckets": "restrict_public_buckets"}


@dataclass(frozen=True)
class StatementVerdict:
    label: str
    public: bool
    why: str


def _read(path: Path, argument: str) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise UsageError(argument, f"cannot read {str(path)!r}: {exc.strerror}") from None


def policy_text(path: Path) -> str:
    """The policy document; also accepts what `aws s3api get-bucket-policy` prints
    (`{"Policy": "<the document as a string>"}`)."""
    text = _read(path, "POLICY")
    try:
        wrapped = json.loads(text)
    except ValueError:
        return text  # analyse() names what is wrong
    if isinstance(wrapped, dict) and set(wrapped) == {"Policy"} and isinstance(
            wrapped["Policy"], str):
        return str(wrapped["Policy"])
    return text


def acl_grants(path: Path) -> list[Mapping[str, Any]]:
    """The grants of `aws s3api get-bucket-acl` output (`{"Grants": [...]}`) or a bare list."""
    try:
        document = json.loads(_read(path, "--acl"))
    except ValueError as exc:
        raise UsageError("--acl", f"{str(path)!r} is not JSON: {exc}") from None
    grants = document.get("Grants") if isinstance(document, dict) else document
    if not isinstance(grants, list) or not all(isinstance(g, dict) for g in grants):
        raise UsageError("--acl", f"{str(path)!r} holds no list of grants (expected the output "
                         "of aws s3api get-bucket-acl)")
    return grants


def block_settings(names: Sequence[str]) -> BlockPublicAccess:
    chosen = {BLOCK_SETTINGS[name]: True for name in names}
    return BlockPublicAccess(**chosen)


def _label(index: int, statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement #{index + 1}"


def statement_verdicts(text: str) -> list[StatementVerdict]:
    """Why each statement is, or is not, public."""
    analysis = analyse(text)
    public = {finding.index: finding for finding in analysis.public}
    verdicts = []
    for index, statement in enumerate(analysis.statements):
        label = _label(index, statement)
        if index in public:
            verdicts.append(StatementVerdict(label, True, public[index].reason))
        elif statement.get("Effect") != "Allow":
            verdicts.append(StatementVerdict(label, False, f"{statement.get('Effect')}: only an "
                                             "Allow can make a bucket public"))
        elif (who := everyone(statement)) is None:
            verdicts.append(StatementVerdict(label, False, "fixed principals only"))
        else:
            condition = narrowing(statement.get("Condition"))
            verdicts.append(StatementVerdict(label, False, f"allows {who}, narrowed by the "
                                             f"condition {condition}"))
    return verdicts


def check_policy(path: Path, *, acl: Path | None = None, block: Sequence[str] = ()
                 ) -> tuple[str, dict[str, Any], bool]:
    """The verdict as text and as data, and whether the bucket would be public."""
    text = policy_text(path)
    try:
        verdicts = statement_verdicts(text)
    except PolicyError as exc:
        raise UsageError("POLICY", str(exc)) from None
    grants = acl_grants(acl) if acl is not None else None
    settings = block_settings(block)
    findings = find(BucketState("(checked)", BlockPublicAccess(), settings,
                                acl={"Grants": grants} if grants is not None else None,
                                policy=text))
    public = bool(findings)
    lines = [f"verdict: {'PUBLIC' if public else 'not public'}"]
    lines.extend(f"  - {reason}" for reason in findings.reasons)
    if settings.restrict_public_buckets and any(v.public for v in verdicts):
        lines.append("  (public statements neutralised by RestrictPublicBuckets)")
    lines.extend(["", "policy statements:"])
    for verdict in verdicts:
        lines.append(f"  {'PUBLIC ' if verdict.public else 'private'}  {verdict.label}: "
                     f"{verdict.why}")
    public_statements = [v for v in verdicts if v.public]
    if public_statements:
        kept = len(verdicts) - len(public_statements)
        lines.append(f"\nthe remediation would remove {len(public_statements)} statement(s) "
                     f"and keep {kept}" + ("" if kept else " (the policy would be deleted)"))
    if grants is not None:
        found = public_grants(grants)
        lines.extend(["", "ACL grants:"])
        lines.extend(f"  PUBLIC   {grant.reason}" for grant in found)
        if not found:
            lines.append("  none to AllUsers or AuthenticatedUsers")
        if found and settings.ignore_public_acls:
            lines.append("  (neutralised by IgnorePublicAcls)")
    data = {"public": public, "reasons": list(findings.reasons),
            "statements": [{"statement": v.label, "public": v.public, "why": v.why}
                           for v in verdicts],
            "block_public_access": settings.to_api()}
    return "\n".join(lines), data, public
