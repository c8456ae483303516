"""Ingress rules -> violations -> replacement then exact revocation per group -> report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from opskit.actions import Action, Executor, Outcome, Status, resources
from opskit.runner import TargetRun
from sg_open_port_remediation.inventory import Group, groups, ingress_rules
from sg_open_port_remediation.rules import ALL_TRAFFIC, Rule, violation
from sg_open_port_remediation.settings import SgConfig

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import IpPermissionTypeDef

RULE = "ec2:security-group-rule"
GROUP = "ec2:security-group"
REVOKE = "revoke-ingress"
REPLACE = "authorize-replacement"
# "Already in that state": the rule is gone, or the replacement exists.
GONE = ("InvalidSecurityGroupRuleId.NotFound", "InvalidPermission.NotFound")
DUPLICATE = ("InvalidPermission.Duplicate",)
# RevokeSecurityGroupIngress takes many rule ids of one group; 100 keeps a bisected batch cheap.
REVOKE_BATCH = 100


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    reason: str


def find(rules: Iterable[Rule], config: SgConfig) -> dict[str, list[Finding]]:
    """Violations by group id (pure)."""
    found: dict[str, list[Finding]] = {}
    for rule in rules:
        reason = violation(rule, config)
        if reason is not None:
            found.setdefault(rule.group_id, []).append(Finding(rule, reason))
    return found


def replacement(rule: Rule, config: SgConfig) -> IpPermissionTypeDef | None:
    """The same protocol and ports, from each configured CIDR of the rule's address family."""
    family = rule.network.version if rule.network is not None else 4
    cidrs = [c for c in config.replacement_cidrs if c.version == family]
    if not cidrs:
        return None
    note = f"opskit replaces {rule.rule_id}"
    permission: IpPermissionTypeDef = {"IpProtocol": rule.protocol}
    if rule.protocol != ALL_TRAFFIC:
        permission["FromPort"], permission["ToPort"] = rule.from_port, rule.to_port
    if family == 6:
        permission["Ipv6Ranges"] = [{"CidrIpv6": str(c), "Description": note} for c in cidrs]
    else:
        permission["IpRanges"] = [{"CidrIp": str(c), "Description": note} for c in cidrs]
    return permission


def _revoke(ec2: EC2Client, group_id: str, batch: Sequence[Action]) -> None:
    ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=resources(batch))


@dataclass(frozen=True, slots=True)
class Replacement:
    """What a replacement's call sends: the one IP permission that keeps the allowed range."""

    permission: IpPermissionTypeDef


def _authorize(ec2: EC2Client, group_id: str, batch: Sequence[Action]) -> None:
    for action in batch:
        ec2.authorize_security_group_ingress(
            GroupId=group_id, IpPermissions=[action.params_as(Replacement).permission])


def remediate_group(ec2: EC2Client, group: Group, findings: Sequence[Finding],
                    executor: Executor, config: SgConfig, *,
                    opened_by: Mapping[str, str], unknown_opener: str) -> None:
    """Replacement first (no gap for the allowed range), then revoke exactly the offending rules."""
    context = {"group_id": group.group_id, "group_name": group.name, "vpc_id": group.vpc_id}
    marker = config.description_marker
    revocable: list[Action] = []
    replacements: list[Action] = []
    for finding in findings:
        rule = finding.rule
        details = {**context, "rule": rule.to_report(),
                   "opened_by": opened_by.get(rule.rule_id, unknown_opener)}
        action = Action(rule.rule_id, RULE, REVOKE, finding.reason, details,
                        {**group.tags, **rule.tags})
        if marker in rule.description or marker in group.description:
            where = "rule" if marker in rule.description else "group"
            executor.skip(action, f"allowed: the {where} description carries {marker!r}")
        elif (exempt := executor.exemption(group.tags, "group")
              or executor.exemption(rule.tags, "rule")) is not None:
            executor.skip(action, exempt)
        else:
            revocable.append(action)
            permission = replacement(rule, config)
            if permission is not None:
                cidrs = ", ".join([r.get("CidrIp", "") for r in permission.get("IpRanges", [])]
                                  + [r.get("CidrIpv6", "")
                                     for r in permission.get("Ipv6Ranges", [])])
                replacements.append(Action(
                    group.group_id, GROUP, REPLACE,
                    f"keeps {rule.ports} open to {cidrs} before {rule.rule_id} goes",
                    {**context, "replaces": rule.rule_id, "ip_permission": permission},
                    params=Replacement(permission)))
    # One call per replacement: an existing one (Duplicate) must not stop the others.
    executor.run(replacements, partial(_authorize, ec2, group.group_id),
                 idempotent_errors=DUPLICATE)
    executor.run(revocable, partial(_revoke, ec2, group.group_id), batch_size=REVOKE_BATCH,
                 idempotent_errors=GONE)


def summary(outcomes: Sequence[Outcome], dry_run: bool, scope: str,
            extra: dict[str, Any] | None = None) -> TargetRun:
    extra = dict(extra or {})
    rules = [o for o in outcomes if o.action.action == REVOKE and o.status != Status.SKIPPED]
    groups = sorted({f"{o.action.details.get('group_id')} ({o.action.details.get('group_name')})"
                     for o in rules})
    still_open = sorted(o.action.resource for o in rules if o.status != Status.DONE)
    failed = [o for o in outcomes if o.status == Status.FAILED]
    if not rules:
        return TargetRun(title=f"No world-open sensitive port ({scope})", severity="info",
                         extra=extra)
    names = ", ".join(groups[:3]) + (f" and {len(groups) - 3} more" if len(groups) > 3 else "")
    closed = len(rules) - len(still_open)
    if dry_run:
        title = f"Would revoke {len(rules)} world-open ingress rule(s) in {names}"
    elif still_open:
        title = (f"Revoked {closed} world-open ingress rule(s), {len(still_open)} still open, "
                 f"in {names}")
    else:
        title = f"Revoked {closed} world-open ingress rule(s) in {names}"
    if failed:
        title += f"; {len(failed)} action(s) failed"
    extra["still_open"] = still_open
    return TargetRun(title=title, severity="critical" if still_open or failed else "warning",
                     extra=extra)


def ambiguous_name(name: str, group_ids: Sequence[str], event_name: str,
                   extra: dict[str, Any] | None = None) -> TargetRun:
    """A record that names its group only by a name several groups share: nothing is changed."""
    return TargetRun(
        title=f"Not checked: {len(group_ids)} security groups are named {name} ({event_name})",
        severity="warning",
        extra={**(extra or {}),
               "error": (f"security group name {name!r} matches {len(group_ids)} groups "
                         f"({', '.join(group_ids)}) and the record gives no group id; nothing "
                         "changed, the daily sweep checks them all")})


def check(ec2: EC2Client, executor: Executor, config: SgConfig, *, scope: str,
          group_ids: Sequence[str] | None = None, opened_by: Mapping[str, str] | None = None,
          extra: dict[str, Any] | None = None) -> TargetRun:
    """Every group of the region (the sweep, `group_ids` None) or the groups an event named."""
    extra = dict(extra or {})
    if group_ids is not None:
        known = groups(ec2, group_ids)
        gone = sorted(set(group_ids) - set(known))
        if gone:
            extra["error"] = f"security group {', '.join(gone)} no longer exists; nothing to check"
        rules = list(ingress_rules(ec2, sorted(known))) if known else []
        found = find(rules, config)
    else:
        rules = list(ingress_rules(ec2))
        found = find(rules, config)
        known = groups(ec2, list(found)) if found else {}
    for group_id, findings in sorted(found.items()):
        group = known.get(group_id)
        if group is not None:  # else deleted between the two reads: nothing left to revoke
            remediate_group(ec2, group, findings, executor, config,
                            opened_by=opened_by or {},
                            unknown_opener=("unknown (found by the sweep)" if group_ids is None
                                            else "unknown (already there before this call)"))
    run = summary(executor.outcomes, config.common.dry_run, scope, extra)
    run.extra["rules_checked"] = len(rules)
    return run
