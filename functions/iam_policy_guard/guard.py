"""One IAM change (an event) or the whole account (the sweep): read, find, decide, apply, report."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, Literal, cast

from botocore.exceptions import BotoCoreError, ClientError

from iam_policy_guard.documents import PolicyError
from iam_policy_guard.inventory import IamReader
from iam_policy_guard.planner import (
    CHANGES,
    REPORT,
    Decision,
    Detach,
    Kind,
    Principal,
    Quarantine,
    Subject,
    attachment_subject,
    decide,
    inline_subject,
    report_subject,
    trust_subject,
    version_subject,
)
from iam_policy_guard.rules import (
    FULL_ADMIN,
    GUARD_TAG_CHANGED,
    QUARANTINE_CHANGED,
    ROOT_ACCESS_KEY,
    Finding,
    Scope,
    TrustContext,
    attachment_findings,
    combined_findings,
    denies_everything,
    is_administrator_access,
    is_aws_managed,
    permission_findings,
    trust_findings,
)
from iam_policy_guard.settings import GuardConfig, Mode
from opskit.actions import Action, Executor, Outcome, Status, error_code
from opskit.observability import logger
from opskit.runner import TargetRun
from opskit.tags import tags_to_dict

INSPECT = "inspect"
# Re-reads what a subject was built from: the subject as it is now, None when nothing dangerous
# is left (the principal, the policy or the grant is gone).
Recheck = Callable[[], Subject | None]


def trust_context(config: GuardConfig, account: str) -> TrustContext:
    return TrustContext(account, config.allowed_accounts, config.organization_id)


def scope_of(reader: IamReader, config: GuardConfig, holder: Principal | None = None) -> Scope:
    """The analysis reads the policies iam:PolicyARN names and what a principal named by its
    ARN holds; the guard's own tags are protected; `holder` holds the document judged."""
    tags = (config.common.exemption_tag_key, config.mode_tag_key)
    return Scope(reader.policy_document, tags, holder.arn if holder is not None else None,
                 partial(_named_admin, reader, config, {}))


def _named_admin(reader: IamReader, config: GuardConfig,
                 known: dict[tuple[str, str], bool | None], kind: str, name: str) -> bool | None:
    """Whether the named principal holds admin-level permissions (a critical finding in one of
    its policies or in them together, a user's groups' included); False when it does not
    exist, None when it cannot be read."""
    if (kind, name) in known:
        return known[(kind, name)]
    known[(kind, name)] = None
    result: bool | None
    try:
        principal = reader.principal(cast(Kind, kind), name)
        if principal is None:
            result = False
        else:
            scope = Scope(reader.policy_document,
                          (config.common.exemption_tag_key, config.mode_tag_key), principal.arn)
            documents = principal_policies(reader, config, principal)
            findings = [f for _, document in documents
                        for f in permission_findings(document, scope)]
            findings += combined_findings(documents, scope)
            result = any(f.rule.severity == "critical" for f in findings)
    except (ClientError, BotoCoreError, PolicyError):
        result = None
    known[(kind, name)] = result
    return result


def handle(subject: Subject, reader: IamReader, executor: Executor, config: GuardConfig,
           recheck: Recheck | None = None) -> None:
    """Decide the subject's action and run it; a change is preceded by a fresh read and skipped
    (reported) when what it was planned from has changed. A quarantine re-reads the finding's
    source and the principal's tags (`recheck`) and decides again; it attaches the quarantine
    policy only while that one denies and allows nothing."""
    decision = decide(subject, config)
    action = decision.action
    logger.info("dangerous IAM", extra={"subject": subject.what, "action": action.action,
                                        "rules": [f.rule.id for f in subject.findings]})
    if decision.skip is not None:
        executor.skip(action, decision.skip)
        return
    if decision.fail is not None:
        executor.fail(action, decision.fail)
        return
    change = decision.change
    if change is None:
        executor.run([action], lambda _: None)
        return
    # Only a subject with a change to make (or plan) loads the IAM writes.
    from iam_policy_guard.actuators import (  # noqa: PLC0415
        apply,
        changed_since_read,
        idempotent_errors,
    )

    if executor.exemption(action.tags) is None:
        if not config.common.dry_run:
            if isinstance(change, Quarantine) and recheck is not None:
                why = _decided_again(decision, executor, config, recheck)
            else:
                why = changed_since_read(reader, change)
            if why is None and isinstance(change, Detach) and recheck is not None:
                # Still attached is not enough: the policy itself may have been fixed.
                why = _decided_again(decision, executor, config, recheck, subject)
            if why is not None:
                executor.skip(action, f"changed since it was read, nothing written: {why}")
                return
        if isinstance(change, Quarantine):
            # Read only: a dry run plans what a live run would do, refusal included.
            unsafe = quarantine_policy_unsafe(reader, change.policy_arn)
            if unsafe is not None:
                executor.fail(action, unsafe)
                return
    executor.run([action], partial(apply, reader.iam, change),
                 idempotent_errors=idempotent_errors(change))


def _decided_again(decision: Decision, executor: Executor, config: GuardConfig,
                   recheck: Recheck, subject: Subject | None = None) -> str | None:
    fresh = recheck()
    if fresh is None:
        return "nothing dangerous is left (the grant or the principal is gone)"
    if subject is not None and _rule_ids(fresh) != _rule_ids(subject):
        return (f"the findings are now {', '.join(sorted(_rule_ids(fresh)))}, not "
                f"{', '.join(sorted(_rule_ids(subject)))}")
    again = decide(fresh, config)
    if again.change != decision.change:
        return f"now decided {again.action.action}: {again.skip or again.fail or 'no change'}"
    exempt = executor.exemption(again.action.tags)
    return None if exempt is None else f"the principal is now {exempt}"


def _rule_ids(subject: Subject) -> set[str]:
    return {finding.rule.id for finding in subject.findings}


def quarantine_policy_unsafe(reader: IamReader, policy_arn: str) -> str | None:
    """Why the quarantine policy must not be attached: missing, or its default version allows
    something (whoever can write a version of it would hand that to every quarantined
    principal)."""
    version = reader.default_version(policy_arn)
    if version is None:
        return f"quarantine policy {policy_arn} does not exist: nothing attached"
    if not denies_everything(reader.version_document(policy_arn, version)):
        return (f"quarantine policy {policy_arn} (default version {version}) is not deny-only "
                "with an unconditional Deny * on *: not attached, it would grant what it allows "
                "or leave the principal its permissions (restore its deny-all version)")
    return None


def guarded(executor: Executor, resource: str, what: str, check: Callable[[], None]) -> None:
    """Run one check; a read that fails or a document that is not a policy is reported."""
    inspect = Action(resource, "iam", INSPECT, what)
    try:
        check()
    except PolicyError as exc:
        executor.fail(inspect, f"policy not analysed, nothing changed: {exc}")
    except (ClientError, BotoCoreError) as exc:
        executor.fail(inspect, f"{error_code(exc)}: {exc}")


def _gone(executor: Executor, resource: str, what: str) -> None:
    executor.skip(Action(resource, "iam", INSPECT, what), "no longer exists")


def _inline_now(reader: IamReader, config: GuardConfig, kind: Kind, name: str,
                policy_name: str) -> Subject | None:
    principal = reader.principal(kind, name)
    document = reader.inline_policy(kind, name, policy_name) if principal else None
    if principal is None or document is None:
        return None
    findings = permission_findings(document, scope_of(reader, config, principal))
    return inline_subject(principal, policy_name, document, findings) if findings else None


def check_inline(reader: IamReader, executor: Executor, config: GuardConfig, *, kind: Kind,
                 name: str, policy_name: str) -> None:
    principal = reader.principal(kind, name)
    document = reader.inline_policy(kind, name, policy_name) if principal else None
    if principal is None or document is None:
        _gone(executor, name, f"inline policy {policy_name} of {kind} {name}")
        return
    findings = permission_findings(document, scope_of(reader, config, principal))
    if findings:
        handle(inline_subject(principal, policy_name, document, findings), reader, executor,
               config, partial(_inline_now, reader, config, kind, name, policy_name))


def _managed_findings(reader: IamReader, policy_arn: str, kind: Kind,
                      scope: Scope | None = None) -> list[Finding]:
    """The managed policy's default version judged like any document; AWS managed documents
    are read once per invocation (IAMFullAccess, PowerUserAccess... grant what they say).
    AdministratorAccess on a user or group is aws-admin-on-user (attachment_findings); on a role
    it is judged by its content (full-admin), like any other policy."""
    if is_administrator_access(policy_arn):
        if kind != "role":
            return []
        document = reader.aws_managed_document(policy_arn)
        if document is None:
            return [Finding(FULL_ADMIN, detail=f"{policy_arn} grants * on *")]
        return permission_findings(document, scope or Scope())
    if is_aws_managed(policy_arn):
        document = reader.aws_managed_document(policy_arn)
        return [] if document is None else permission_findings(document, scope or Scope())
    version = reader.default_version(policy_arn)
    if version is None:
        return []
    return permission_findings(reader.version_document(policy_arn, version), scope or Scope())


def _attachment_now(reader: IamReader, config: GuardConfig, kind: Kind, name: str,
                    policy_arn: str) -> Subject | None:
    principal = reader.principal(kind, name)
    if principal is None or policy_arn not in reader.attached(kind, name):
        return None
    findings = attachment_findings(kind, policy_arn) + _managed_findings(
        reader, policy_arn, kind, scope_of(reader, config, principal))
    return attachment_subject(principal, policy_arn, findings) if findings else None


def check_attachment(reader: IamReader, executor: Executor, config: GuardConfig, *,
                     kind: Kind, name: str, policy_arn: str) -> None:
    principal = reader.principal(kind, name)
    if principal is None or policy_arn not in reader.attached(kind, name):
        _gone(executor, name, f"{policy_arn} attached to {kind} {name}")
        return
    findings = attachment_findings(kind, policy_arn) + _managed_findings(
        reader, policy_arn, kind, scope_of(reader, config, principal))
    if findings:
        handle(attachment_subject(principal, policy_arn, findings), reader, executor, config,
               partial(_attachment_now, reader, config, kind, name, policy_arn))


def _trust_now(reader: IamReader, config: GuardConfig, role_name: str,
               account: str) -> Subject | None:
    role = reader.principal("role", role_name)
    document = reader.trust_policy(role_name) if role else None
    if role is None or document is None:
        return None
    context = trust_context(config, account)
    findings = trust_findings(document, context)
    return trust_subject(role, document, findings, context) if findings else None


def check_trust(reader: IamReader, executor: Executor, config: GuardConfig, role_name: str,
                account: str) -> None:
    role = reader.principal("role", role_name)
    document = reader.trust_policy(role_name) if role else None
    if role is None or document is None:
        _gone(executor, role_name, f"trust policy of role {role_name}")
        return
    findings = trust_findings(document, trust_context(config, account))
    if findings:
        handle(trust_subject(role, document, findings, trust_context(config, account)), reader,
               executor, config, partial(_trust_now, reader, config, role_name, account))


def is_quarantine_policy(config: GuardConfig, policy_arn: str) -> bool:
    """The stack's quarantine policy, in the home account or (same name) a target account."""
    quarantine = config.quarantine_policy_arn
    return quarantine is not None and (
        quarantine.split(":", 5)[5:] == policy_arn.split(":", 5)[5:])


def _version_findings(config: GuardConfig, policy_arn: str, document: object,
                      scope: Scope) -> list[Finding]:
    findings = permission_findings(document, scope)
    if is_quarantine_policy(config, policy_arn) and not denies_everything(document):
        findings.append(Finding(QUARANTINE_CHANGED, detail=(
            f"{policy_arn} must hold only Deny statements, one of them Deny * on *")))
    return findings


def _protected_holder(principal: Principal, executor: Executor, config: GuardConfig) -> bool:
    return (principal.service_linked
            or (principal.kind == "role" and config.own_role(principal.name, principal.arn))
            or config.allow_listed_principal(principal.arn)
            or executor.exemption(principal.tags) is not None
            or _asks_for_less_than_remediate(principal, config))


def _named_holder(holder: Principal, config: GuardConfig) -> str:
    if holder.kind == "role" and config.own_role_by_prefix_only(holder.name, holder.arn):
        return f"{holder.arn} (named with the catalog's prefix, OWN_ROLE_PREFIXES)"
    return holder.arn


def _asks_for_less_than_remediate(principal: Principal, config: GuardConfig) -> bool:
    """A mode tag other than `remediate` (allow, report, quarantine, or a value the guard does
    not know): the holder asked that its permissions not be rewritten."""
    tags = {key.lower(): value for key, value in principal.tags.items()}
    value = tags.get(config.mode_tag_key.lower())
    return value is not None and value.strip().lower() != Mode.REMEDIATE.value


def _unless_held_by_protected(subject: Subject, reader: IamReader, executor: Executor,
                              config: GuardConfig) -> Subject:
    """A version revert changes the policy for everyone holding it: reported only when one of
    them is exempt, allow-listed (by ARN or by tag), one of the catalog's roles or
    service-linked."""
    if (subject.remedy is None or subject.policy_arn is None
            or config.default_mode is not Mode.REMEDIATE
            or config.allow_listed_policy(subject.policy_arn)):
        return subject
    protected = []
    for kind, name in reader.holders(subject.policy_arn):
        holder = reader.principal(kind, name)
        if holder is not None and _protected_holder(holder, executor, config):
            protected.append(_named_holder(holder, config))
        if kind == "group":
            # Every member holds what the group holds.
            for member_name in reader.members(name):
                member = reader.principal("user", member_name)
                if member is not None and _protected_holder(member, executor, config):
                    protected.append(f"{member.arn} (through group {name})")
    if not protected:
        return subject
    return replace(subject, remedy=None, no_remedy=(
        "held by principals the guard never changes: " + ", ".join(protected)))


def check_policy_version(reader: IamReader, executor: Executor, config: GuardConfig,
                         policy_arn: str) -> None:
    """The policy's default version; its remedy is the version that was default before it
    (the newest older version), when that one is safe and no protected principal holds the
    policy. Any version of the quarantine policy that is not deny-all is reported."""
    if is_aws_managed(policy_arn):
        return
    policy = reader.managed_policy(policy_arn)
    current = policy.default_version if policy is not None else None
    if policy is None or current is None:
        _gone(executor, policy_arn, f"managed policy {policy_arn}")
        return
    scope = scope_of(reader, config)
    findings = _version_findings(config, policy_arn, reader.version_document(policy_arn, current),
                                 scope)
    if not findings:
        return
    versions = reader.versions(policy_arn)
    others = [v for v in versions if v.id != current]
    previous = others[0].id if others else None
    # IAM keeps no history of the default: the version that was default before is known for
    # sure only when one other version exists (the default cannot be deleted). Otherwise (a
    # SetDefaultPolicyVersion to an older version, a policy with history) report only.
    unknown = ""
    if len(others) > 1:
        previous = None
        unknown = (f"{len(versions)} versions: which one was default before {current} is not "
                   "known (IAM keeps no history of the default), nothing reverted")
    unsafe = previous is not None and bool(_version_findings(
        config, policy_arn, reader.version_document(policy_arn, previous), scope))
    subject = version_subject(policy_arn, current, previous, findings, unsafe, unknown=unknown,
                              tags=policy.tags)
    handle(_unless_held_by_protected(subject, reader, executor, config), reader, executor,
           config)


# ---- what a principal's policies grant together --------------------------------------------

def principal_policies(reader: IamReader, config: GuardConfig,
                       principal: Principal) -> list[tuple[str, object]]:
    """(name, document) of every policy the principal holds: inline, attached (customer and
    AWS managed; allow-listed policies are intended and left out) and, for a user, its
    groups'."""
    holders: list[tuple[Kind, str]] = [(principal.kind, principal.name)]
    if principal.kind == "user":
        holders += [("group", group) for group in reader.groups_of(principal.name)]
    documents: list[tuple[str, object]] = []
    for kind, name in holders:
        for policy_name in reader.inline_names(kind, name):
            document = reader.inline_policy(kind, name, policy_name)
            if document is not None:
                documents.append((f"inline policy {policy_name} of {kind} {name}", document))
        for policy_arn in reader.attached(kind, name):
            document = (None if config.allow_listed_policy(policy_arn)
                        else reader.policy_document(policy_arn))
            if document is not None:
                documents.append((f"{policy_arn} attached to {kind} {name}", document))
    return documents


def combined_subject(principal: Principal, findings: Sequence[Finding]) -> Subject:
    return report_subject(principal.arn, f"iam:{principal.kind}",
                          f"policies of {principal.kind} {principal.name} together", findings,
                          principal=principal,
                          why="granted by several policies together: no one of them is removed "
                              "(reported, or the principal quarantined)")


def _combination_now(reader: IamReader, config: GuardConfig, kind: Kind,
                     name: str) -> Subject | None:
    principal = reader.principal(kind, name)
    if principal is None:
        return None
    findings = combined_findings(principal_policies(reader, config, principal),
                                 scope_of(reader, config, principal))
    return combined_subject(principal, findings) if findings else None


def check_combination(reader: IamReader, executor: Executor, config: GuardConfig, kind: Kind,
                      name: str) -> None:
    """What the principal's policies grant together that none grants alone (an escalation
    split over several policies, or a user's and its groups')."""
    principal = reader.principal(kind, name)
    if principal is None:
        return
    findings = combined_findings(principal_policies(reader, config, principal),
                                 scope_of(reader, config, principal))
    if findings:
        handle(combined_subject(principal, findings), reader, executor, config,
               partial(_combination_now, reader, config, kind, name))


def check_together(reader: IamReader, executor: Executor, config: GuardConfig, kind: Kind,
                   name: str) -> None:
    """After a policy written on or attached to a principal: what its policies now grant
    together (a user's with its groups'); for a group, what each member's policies grant
    together with the group's (GetGroup, paginated; one member's failure blocks no other)."""
    if kind != "group":
        check_combination(reader, executor, config, kind, name)
        return
    for member in reader.members(name):
        guarded(executor, member, f"policies of user {member} together",
                partial(check_combination, reader, executor, config, "user", member))


def check_principal(reader: IamReader, executor: Executor, config: GuardConfig, kind: Kind,
                    name: str) -> None:
    """Everything a principal holds: its inline and attached policies, one by one and
    together (for a user, with its groups')."""
    for policy_name in reader.inline_names(kind, name):
        check_inline(reader, executor, config, kind=kind, name=name, policy_name=policy_name)
    for policy_arn in reader.attached(kind, name):
        check_attachment(reader, executor, config, kind=kind, name=name, policy_arn=policy_arn)
    if kind != "group":
        check_combination(reader, executor, config, kind, name)


def _join_now(reader: IamReader, config: GuardConfig, user_name: str,
              group_name: str) -> Subject | None:
    user = reader.principal("user", user_name)
    group = reader.principal("group", group_name) if user is not None else None
    if user is None or group is None or config.allow_listed_principal(group.arn):
        return None
    findings = _group_findings(reader, config, group_name)
    return _join_subject(user, group_name, findings) if findings else None


def _group_findings(reader: IamReader, config: GuardConfig, group_name: str) -> list[Finding]:
    scope = scope_of(reader, config)
    findings: list[Finding] = []
    for policy_name in reader.inline_names("group", group_name):
        document = reader.inline_policy("group", group_name, policy_name)
        if document is not None:
            findings += permission_findings(document, scope)
    for policy_arn in reader.attached("group", group_name):
        if config.allow_listed_policy(policy_arn):
            continue  # the allow-list applies before the subject is built
        findings += attachment_findings("group", policy_arn) + _managed_findings(
            reader, policy_arn, "group", scope)
    return findings


def _join_subject(user: Principal, group_name: str, findings: Sequence[Finding]) -> Subject:
    return report_subject(user.arn, "iam:user", f"user {user.name} joined group {group_name}",
                          findings, principal=user,
                          why="joining a group is reported, never undone")


def check_group_join(reader: IamReader, executor: Executor, config: GuardConfig,
                     user_name: str, group_name: str) -> None:
    """What the user received by joining: the group's findings, reported on the user (the
    group's policies are the group's owners' to change; quarantine applies to the user), and
    what the group's policies grant together with the user's."""
    user = reader.principal("user", user_name)
    group = reader.principal("group", group_name) if user is not None else None
    if user is None or group is None:
        _gone(executor, user_name, f"user {user_name} in group {group_name}")
        return
    if config.allow_listed_principal(group.arn):
        # What the group grants is intended: the user receives nothing unexpected.
        executor.skip(Action(user.arn, "iam:user", REPORT,
                             f"user {user_name} joined group {group_name}"),
                      "allow-listed group")
        return
    findings = _group_findings(reader, config, group_name)
    if findings:
        handle(_join_subject(user, group_name, findings), reader, executor, config,
               partial(_join_now, reader, config, user_name, group_name))
    check_combination(reader, executor, config, "user", user_name)


def report_root_key(executor: Executor, config: GuardConfig, account: str,
                    key_id: str | None) -> None:
    subject = report_subject(f"arn:aws:iam::{account}:root", "iam:root",
                             f"root access key {key_id or '(id not recorded)'}",
                             [Finding(ROOT_ACCESS_KEY, detail="only root can delete it: sign in "
                                      "as root and delete the key")],
                             why="root's keys can be changed only by root")
    executor.run([decide(subject, config).action], lambda _: None)


def report_tag_change(executor: Executor, config: GuardConfig, account: str, *,
                      kind: Kind | Literal["policy"], name: str, event_name: str,
                      keys: Sequence[str]) -> None:
    """The guard's own tags written or removed on a principal or a managed policy (`name` is
    then its ARN): always reported (the report is not subject to the tags it is about), never
    undone."""
    arn = name if kind == "policy" else f"arn:aws:iam::{account}:{kind}/{name}"
    subject = report_subject(arn, f"iam:{kind}", f"{event_name} on {kind} {name}",
                             [Finding(GUARD_TAG_CHANGED,
                                      detail=f"{event_name} of {', '.join(keys)}")],
                             why="tag changes are reported, never undone")
    executor.run([decide(subject, config).action], lambda _: None)


# ---- the daily sweep ---------------------------------------------------------------------------

def _principal(kind: Kind, item: Mapping[str, Any], name_key: str) -> Principal:
    return Principal(kind, item[name_key], item["Arn"], item.get("Path", "/"),
                     tags_to_dict(item.get("Tags")))


_DETAILS: tuple[tuple[Kind, str, str, str], ...] = (
    ("role", "RoleDetailList", "RoleName", "RolePolicyList"),
    ("user", "UserDetailList", "UserName", "UserPolicyList"),
    ("group", "GroupDetailList", "GroupName", "GroupPolicyList"))


def _snapshot(reader: IamReader) -> tuple[list[tuple[Kind, str, str, Mapping[str, Any]]],
                                          list[Mapping[str, Any]]]:
    principals: list[tuple[Kind, str, str, Mapping[str, Any]]] = []
    policies: list[Mapping[str, Any]] = []
    for page in reader.authorization_details():
        for kind, key, name_key, inline_key in _DETAILS:
            principals.extend((kind, name_key, inline_key, item) for item in page.get(key, []))
        policies.extend(page.get("Policies", []))
    return principals, policies


def _default_document(policy: Mapping[str, Any]) -> Any | None:
    return next((v.get("Document") for v in policy.get("PolicyVersionList", [])
                 if v.get("IsDefaultVersion")), None)


def sweep(reader: IamReader, executor: Executor, config: GuardConfig, account: str) -> int:
    """Every principal and customer managed policy of the account's snapshot (read once,
    paginated), each policy alone and each principal's policies together. Each change is still
    preceded by a fresh read. Established managed policy versions are reported, never reverted
    (nothing says which earlier version was right)."""
    checked = 0
    context = trust_context(config, account)
    principals, policies = _snapshot(reader)
    documents = {p["Arn"]: _default_document(p) for p in policies}
    groups = {item["GroupName"]: (item, inline_key)
              for kind, _, inline_key, item in principals if kind == "group"}
    for kind, name_key, inline_key, item in principals:
        checked += 1
        principal = _principal(kind, item, name_key)
        guarded(executor, principal.arn, f"{kind} {principal.name}",
                partial(_sweep_principal, reader, executor, config, principal=principal,
                        item=item, inline_key=inline_key, context=context))
        if kind != "group":
            held = [(item, inline_key)] + [groups[g] for g in item.get("GroupList", [])
                                           if g in groups]
            guarded(executor, principal.arn, f"policies of {kind} {principal.name} together",
                    partial(_sweep_combination, reader, executor, config, principal=principal,
                            held=held, documents=documents))
    for policy in policies:
        checked += 1
        guarded(executor, policy["Arn"], f"managed policy {policy['Arn']}",
                partial(_sweep_policy, reader, executor, config, policy))
    return checked


def _held_documents(reader: IamReader, config: GuardConfig,
                    held: Sequence[tuple[Mapping[str, Any], str]],
                    documents: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    for item, inline_key in held:
        holder = item.get("UserName") or item.get("RoleName") or item.get("GroupName")
        for inline in item.get(inline_key, []):
            yield f"inline policy {inline['PolicyName']} of {holder}", inline["PolicyDocument"]
        for attached in item.get("AttachedManagedPolicies", []):
            arn = attached["PolicyArn"]
            if config.allow_listed_policy(arn):
                continue
            document = (reader.policy_document(arn) if is_aws_managed(arn)
                        else documents.get(arn))
            if document is not None:
                yield f"{arn} attached to {holder}", document


def _sweep_combination(reader: IamReader, executor: Executor, config: GuardConfig, *,
                       principal: Principal, held: Sequence[tuple[Mapping[str, Any], str]],
                       documents: Mapping[str, Any]) -> None:
    findings = combined_findings(list(_held_documents(reader, config, held, documents)),
                                 scope_of(reader, config, principal))
    if findings:
        handle(combined_subject(principal, findings), reader, executor, config,
               partial(_combination_now, reader, config, principal.kind, principal.name))


def _sweep_principal(reader: IamReader, executor: Executor, config: GuardConfig, *,
                     principal: Principal, item: Mapping[str, Any], inline_key: str,
                     context: TrustContext) -> None:
    scope = scope_of(reader, config, principal)
    if principal.kind == "role" and item.get("AssumeRolePolicyDocument"):
        document = item["AssumeRolePolicyDocument"]
        findings = trust_findings(document, context)
        if findings:
            handle(trust_subject(principal, document, findings, context), reader, executor,
                   config, partial(_trust_now, reader, config, principal.name,
                                   context.home_account))
    for inline in item.get(inline_key, []):
        findings = permission_findings(inline["PolicyDocument"], scope)
        if findings:
            handle(inline_subject(principal, inline["PolicyName"], inline["PolicyDocument"],
                                  findings), reader, executor, config,
                   partial(_inline_now, reader, config, principal.kind, principal.name,
                           inline["PolicyName"]))
    for attached in item.get("AttachedManagedPolicies", []):
        arn = attached["PolicyArn"]
        findings = attachment_findings(principal.kind, arn)
        if is_aws_managed(arn):  # customer policies: the Policies pages
            findings += _managed_findings(reader, arn, principal.kind, scope)
        if findings:
            handle(attachment_subject(principal, arn, findings), reader, executor, config,
                   partial(_attachment_now, reader, config, principal.kind, principal.name,
                           arn))


def _sweep_policy(reader: IamReader, executor: Executor, config: GuardConfig,
                  policy: Mapping[str, Any]) -> None:
    default = next((v for v in policy.get("PolicyVersionList", [])
                    if v.get("IsDefaultVersion")), None)
    if default is None:
        return
    findings = _version_findings(config, policy["Arn"], default["Document"],
                                 scope_of(reader, config))
    if findings:
        subject = report_subject(policy["Arn"], "iam:policy",
                                 f"default version {default['VersionId']} of managed policy "
                                 f"{policy['Arn']} (attached {policy.get('AttachmentCount', 0)} "
                                 "times)", findings,
                                 why="the sweep reports established versions, never reverts")
        handle(Subject(subject.resource, subject.resource_type, subject.what, subject.findings,
                       policy_arn=policy["Arn"], no_remedy=subject.no_remedy),
               reader, executor, config)


# ---- the report -------------------------------------------------------------------------------

def summary(outcomes: Sequence[Outcome], dry_run: bool, scope: str,
            extra: dict[str, Any] | None = None) -> TargetRun:
    extra = dict(extra or {})
    found = [o for o in outcomes if o.action.action != INSPECT]
    failed = [o for o in outcomes if o.status == Status.FAILED]
    if not found:
        title = (f"{len(failed)} IAM check(s) failed ({scope})" if failed
                 else f"No dangerous IAM grant ({scope})")
        return TargetRun(title=title, severity="warning" if failed else "info", extra=extra,
                         quiet=not failed)
    changed = [o for o in found if o.action.action in CHANGES and o.status == Status.DONE]
    planned = [o for o in found if o.action.action in CHANGES and o.status == Status.PLANNED]
    parts = [f"{len(found)} dangerous IAM grant(s)"]
    if changed:
        parts.append(f"{len(changed)} remediated")
    if planned:
        parts.append(f"{len(planned)} would be remediated" if dry_run else
                     f"{len(planned)} planned")
    names = ", ".join(dict.fromkeys(o.action.resource for o in found[:3]))
    left_open = [o for o in found if o not in changed and o.status != Status.SKIPPED]
    critical = any(f.get("severity") == "critical" for o in left_open
                   for f in o.action.details.get("findings", []))
    extra["findings"] = len(found)
    return TargetRun(title=f"{', '.join(parts)} ({scope}): {names}",
                     severity="critical" if critical or failed else "warning", extra=extra)
