"""Findings on a principal or policy -> the action its mode calls for, with the before-state.

Every change carries the call that puts back what it changes (`undo`), recorded in the report:
a person (or actuators.undo) can restore the exact before-state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from iam_policy_guard.documents import load_document
from iam_policy_guard.rules import Finding, TrustContext, trust_findings
from iam_policy_guard.settings import GuardConfig, Mode
from opskit.actions import Action
from opskit.tags import enum_tag

Kind = Literal["user", "role", "group"]
SERVICE_LINKED_PATH = "/aws-service-role/"
REPORT = "report-dangerous-iam"
REVERT_VERSION = "revert-default-version"
DETACH = "detach-policy"
DELETE_INLINE = "delete-inline-policy"
STRIP_TRUST = "strip-trust-statements"
QUARANTINE = "quarantine"
CHANGES = frozenset({REVERT_VERSION, DETACH, DELETE_INLINE, STRIP_TRUST, QUARANTINE})


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Kind
    name: str
    arn: str
    path: str = "/"
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def service_linked(self) -> bool:
        return self.path.startswith(SERVICE_LINKED_PATH)


# The remediation calls' parameters (typed: the actuators accept nothing else).
@dataclass(frozen=True, slots=True)
class RevertVersion:
    policy_arn: str
    bad_version: str  # the default version the findings are in
    previous_version: str  # the version that was default before it


@dataclass(frozen=True, slots=True)
class Detach:
    kind: Kind
    name: str
    policy_arn: str


@dataclass(frozen=True, slots=True)
class DeleteInline:
    kind: Kind
    name: str
    policy_name: str
    document: Mapping[str, Any]  # as read: the write happens only if IAM still holds it


@dataclass(frozen=True, slots=True)
class StripTrust:
    role_name: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Quarantine:
    kind: Kind
    name: str
    policy_arn: str


Change = RevertVersion | Detach | DeleteInline | StripTrust | Quarantine


def _compact(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def undo_call(change: Change) -> dict[str, Any]:
    """The IAM call that restores what `change` changes (the report's `undo`)."""
    match change:
        case RevertVersion():
            return {"call": "set_default_policy_version",
                    "params": {"PolicyArn": change.policy_arn, "VersionId": change.bad_version}}
        case Detach() | Quarantine():
            return {"call": f"attach_{change.kind}_policy" if isinstance(change, Detach)
                    else f"detach_{change.kind}_policy",
                    "params": {f"{change.kind.capitalize()}Name": change.name,
                               "PolicyArn": change.policy_arn}}
        case DeleteInline():
            return {"call": f"put_{change.kind}_policy",
                    "params": {f"{change.kind.capitalize()}Name": change.name,
                               "PolicyName": change.policy_name,
                               "PolicyDocument": _compact(change.document)}}
        case StripTrust():
            return {"call": "update_assume_role_policy",
                    "params": {"RoleName": change.role_name,
                               "PolicyDocument": _compact(change.before)}}


@dataclass(frozen=True, slots=True)
class Subject:
    """What findings are about: the resource the report names, what holds the statements, and
    the change that removes them (None: no safe before-state, the findings are only reported)."""

    resource: str
    resource_type: str
    what: str
    findings: tuple[Finding, ...]
    principal: Principal | None = None
    policy_arn: str | None = None
    remedy: Change | None = None
    no_remedy: str = ""  # why there is no remedy
    tags: Mapping[str, str] = field(default_factory=dict)  # the policy's (no principal)


def _resource_type(principal: Principal | None) -> str:
    return f"iam:{principal.kind}" if principal is not None else "iam:policy"


def inline_subject(principal: Principal, policy_name: str, document: object,
                   findings: Sequence[Finding]) -> Subject:
    return Subject(principal.arn, _resource_type(principal),
                   f"inline policy {policy_name} of {principal.kind} {principal.name}",
                   tuple(findings), principal,
                   remedy=DeleteInline(principal.kind, principal.name, policy_name,
                                       load_document(document)))


def attachment_subject(principal: Principal, policy_arn: str,
                       findings: Sequence[Finding]) -> Subject:
    return Subject(principal.arn, _resource_type(principal),
                   f"managed policy {policy_arn} attached to {principal.kind} {principal.name}",
                   tuple(findings), principal, policy_arn,
                   remedy=Detach(principal.kind, principal.name, policy_arn))


def _principal_entries(principal: Any) -> list[tuple[str, Any]] | None:
    """The statement's principals one by one ((type, value)); None when it cannot be split
    ("*", a malformed element)."""
    if not isinstance(principal, Mapping):
        return None
    entries: list[tuple[str, Any]] = []
    for key, value in principal.items():
        values = value if isinstance(value, list) else [value]
        entries.extend((key, item) for item in values)
    return entries


def _with_principals(statement: Mapping[str, Any],
                     entries: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    grouped: dict[str, list[Any]] = {}
    for key, value in entries:
        grouped.setdefault(key, []).append(value)
    principal = {key: values[0] if len(values) == 1 else values
                 for key, values in grouped.items()}
    return {**statement, "Principal": principal}


def _safe_part(statement: Any, context: TrustContext | None) -> dict[str, Any] | None:
    """The statement with only the principals that are safe on their own (each judged with
    the statement's action and conditions), None when none is (or it cannot be split)."""
    if context is None or not isinstance(statement, Mapping) or "NotPrincipal" in statement:
        return None
    entries = _principal_entries(statement.get("Principal"))
    if not entries or len(entries) == 1:
        return None
    safe = [entry for entry in entries if not trust_findings(
        {"Version": "2012-10-17", "Statement": [_with_principals(statement, [entry])]},
        context)]
    if not safe or len(safe) == len(entries):
        return None
    return _with_principals(statement, safe)


def trust_subject(role: Principal, document: object, findings: Sequence[Finding],
                  context: TrustContext | None = None) -> Subject:
    """Without the offending principals of the statements the findings name (the statement's
    other principals, such as the home account's, are kept; with `context` only); nothing left
    means no safe trust policy to fall back to (CloudTrail does not carry the previous one):
    report only."""
    before = load_document(document)
    bad = {s.index for finding in findings for s in finding.statements}
    raw = before.get("Statement")
    items = [raw] if isinstance(raw, Mapping) else list(raw or [])
    kept = []
    for index, statement in enumerate(items):
        if index not in bad:
            kept.append(statement)
        elif (part := _safe_part(statement, context)) is not None:
            kept.append(part)
    what = f"trust policy of role {role.name}"
    if not kept:
        return Subject(role.arn, "iam:role", what, tuple(findings), role,
                       no_remedy="every statement is unsafe: no safe trust policy to restore")
    after = {**before, "Statement": kept}
    return Subject(role.arn, "iam:role", what, tuple(findings), role,
                   remedy=StripTrust(role.name, before, after))


def version_subject(policy_arn: str, default_version: str, previous_version: str | None,
                    findings: Sequence[Finding], previous_unsafe: bool = False, *,
                    unknown: str = "", tags: Mapping[str, str] | None = None) -> Subject:
    """`unknown`: why the version that was default before is not known for sure (report
    only: reverting to a guess would restore a state nobody ran with)."""
    what = f"default version {default_version} of managed policy {policy_arn}"
    tags = dict(tags or {})
    if previous_version is None or previous_unsafe or unknown:
        why = (unknown or ("no earlier version to revert to" if previous_version is None
                           else f"the earlier version {previous_version} is unsafe too"))
        return Subject(policy_arn, "iam:policy", what, tuple(findings), policy_arn=policy_arn,
                       no_remedy=why, tags=tags)
    return Subject(policy_arn, "iam:policy", what, tuple(findings), policy_arn=policy_arn,
                   remedy=RevertVersion(policy_arn, default_version, previous_version),
                   tags=tags)


def report_subject(resource: str, resource_type: str, what: str, findings: Sequence[Finding],
                   *, principal: Principal | None = None, why: str = "") -> Subject:
    return Subject(resource, resource_type, what, tuple(findings), principal, no_remedy=why)


# ---- the decision --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Decision:
    """The action for a subject, and how the executor records it: run it, or skip / fail it
    with `note` (nothing is called)."""

    action: Action
    change: Change | None = None
    skip: str | None = None
    fail: str | None = None


def quarantine_policy_in(policy_arn: str, principal_arn: str) -> str:
    """The quarantine policy of the principal's account: the stack's in its own account, the
    member role's (same name, member-role.yaml) in a target account. A managed policy can only
    be attached in its own account."""
    policy, principal = policy_arn.split(":", 5), principal_arn.split(":", 5)
    if len(policy) != 6 or len(principal) != 6:
        return policy_arn
    return ":".join([*policy[:4], principal[4], policy[5]])


def mode_of(principal: Principal | None, config: GuardConfig) -> Mode:
    """The principal's mode tag, else the stack's; ValueError naming the tag when invalid."""
    tags = principal.tags if principal is not None else {}
    return enum_tag(tags, config.mode_tag_key, Mode, config.default_mode)


def _action(subject: Subject, name: str, mode: str, **extra: Any) -> Action:
    details: dict[str, Any] = {"subject": subject.what, "mode": mode,
                               "findings": [finding.to_dict() for finding in subject.findings],
                               **extra}
    tags = subject.principal.tags if subject.principal is not None else subject.tags
    reason = "; ".join(dict.fromkeys(finding.rule.title for finding in subject.findings))
    return Action(subject.resource, subject.resource_type, name, reason, details, tags)


# A role protected by its name alone (OWN_ROLE_PREFIXES): anyone who may create roles can give
# one that name, so its finding is reported (as a warning), never acted on.
PREFIX_ONLY = ("named with the catalog's prefix (OWN_ROLE_PREFIXES): never changed; reported "
               "because a name alone does not prove the role is the catalog's")


def decide(subject: Subject, config: GuardConfig) -> Decision:
    """What the subject's mode calls for. Service-linked roles, the stack's own roles and
    allow-listed principals or policies are reported as skipped, never changed."""
    principal = subject.principal
    if principal is not None and principal.service_linked:
        return Decision(_action(subject, REPORT, "never"),
                        skip="service-linked role: managed by its AWS service, never changed")
    if principal is not None and principal.kind == "role" and config.own_role_by_prefix_only(
            principal.name, principal.arn):
        return Decision(_action(subject, REPORT, "never"), skip=PREFIX_ONLY)
    if principal is not None and principal.kind == "role" and config.own_role(principal.name,
                                                                              principal.arn):
        return Decision(_action(subject, REPORT, "never"),
                        skip="one of this stack's own roles: never changed")
    if principal is not None and config.allow_listed_principal(principal.arn):
        return Decision(_action(subject, REPORT, "allow"), skip="allow-listed principal")
    if subject.policy_arn is not None and config.allow_listed_policy(subject.policy_arn):
        return Decision(_action(subject, REPORT, "allow"), skip="allow-listed policy")
    try:
        mode = mode_of(principal, config)
    except ValueError as exc:
        return Decision(_action(subject, REPORT, "invalid tag"), fail=str(exc))
    if mode is Mode.ALLOW:
        return Decision(_action(subject, REPORT, "allow"),
                        skip=f"allowed by tag {config.mode_tag_key}=allow")
    if mode is Mode.QUARANTINE:
        # Quarantine only ever attaches the deny-all policy to a user or role; anything else
        # (a group, a managed policy's version) is reported, never remediated another way.
        if (principal is not None and principal.kind != "group"
                and config.quarantine_policy_arn is not None):
            change = Quarantine(principal.kind, principal.name,
                                quarantine_policy_in(config.quarantine_policy_arn, principal.arn))
            return Decision(_action(subject, QUARANTINE, mode, undo=undo_call(change),
                                    before={"attached": False}), change)
        why = ("no quarantine policy configured" if config.quarantine_policy_arn is None
               else f"quarantine mode: no user or role to quarantine for {subject.what}")
        return Decision(_action(subject, REPORT, mode, no_remedy=why))
    if mode is Mode.REPORT or subject.remedy is None:
        extra = {"no_remedy": subject.no_remedy} if mode is not Mode.REPORT else {}
        return Decision(_action(subject, REPORT, mode, **extra))
    remedy = subject.remedy
    name = {RevertVersion: REVERT_VERSION, Detach: DETACH, DeleteInline: DELETE_INLINE,
            StripTrust: STRIP_TRUST}[type(remedy)]
    before: dict[str, Any] = {}
    match remedy:
        case RevertVersion():
            before = {"default_version": remedy.bad_version,
                      "reverted_to": remedy.previous_version}
        case Detach():
            before = {"attached": remedy.policy_arn}
        case DeleteInline():
            before = {"policy_name": remedy.policy_name, "document": dict(remedy.document)}
        case StripTrust():
            before = {"trust_policy": dict(remedy.before)}
            removed = [s for s in _statements(remedy.before) if s not in _statements(
                remedy.after)]
            before["removed_statements"] = removed
    return Decision(_action(subject, name, mode, before=before, undo=undo_call(remedy)), remedy)


def _statements(document: Mapping[str, Any]) -> list[Any]:
    raw = document.get("Statement")
    return [raw] if isinstance(raw, Mapping) else list(raw or [])
