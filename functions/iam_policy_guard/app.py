"""Lambda entry point of the IAM policy guard (CloudTrail IAM calls in us-east-1; daily sweep)."""

from __future__ import annotations

from functools import partial
from typing import Any

from iam_policy_guard.events import BOUNDARY_CALLS, CALLS, TAG_CALLS, IamChange, iam_change
from iam_policy_guard.guard import (
    check_attachment,
    check_group_join,
    check_inline,
    check_policy_version,
    check_principal,
    check_together,
    check_trust,
    guarded,
    report_root_key,
    report_tag_change,
    summary,
    sweep,
)
from iam_policy_guard.inventory import IamReader
from iam_policy_guard.settings import AUTOMATION, IAM_REGION, GuardConfig
from opskit.actions import Executor
from opskit.aws import Target, target_pairs
from opskit.cloudtrail import read_call, record_ids, trigger
from opskit.events import EventError
from opskit.handler import Invocation, Skip, Trigger, automation
from opskit.runner import TargetRun


def _check(change: IamChange, reader: IamReader, executor: Executor, config: GuardConfig,
           account: str) -> None:
    kind, name = change.kind, change.name or ""
    match change.event_name:
        case "CreatePolicy" | "CreatePolicyVersion" | "SetDefaultPolicyVersion":
            check_policy_version(reader, executor, config, str(change.policy_arn))
        case "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy" if kind is not None:
            check_inline(reader, executor, config, kind=kind, name=name,
                         policy_name=str(change.policy_name))
            check_together(reader, executor, config, kind, name)
        case "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy" if kind is not None:
            check_attachment(reader, executor, config, kind=kind, name=name,
                             policy_arn=str(change.policy_arn))
            check_together(reader, executor, config, kind, name)
        case "UpdateAssumeRolePolicy" | "CreateRole":
            check_trust(reader, executor, config, name, account)
        case "CreateUser":
            check_principal(reader, executor, config, "user", name)
        case "AddUserToGroup":
            check_group_join(reader, executor, config, str(change.user_name), name)
        case "CreateAccessKey":
            report_root_key(executor, config, account, change.access_key_id)
        case event if event in BOUNDARY_CALLS and kind is not None:
            check_principal(reader, executor, config, kind, name)
        case event if event in TAG_CALLS and kind is not None:
            report_tag_change(executor, config, account, kind=kind, name=name,
                              event_name=event, keys=guard_tags(change, config))
        case event if event in TAG_CALLS and change.policy_arn is not None:
            report_tag_change(executor, config, account, kind="policy", name=change.policy_arn,
                              event_name=event, keys=guard_tags(change, config))


def guard_tags(change: IamChange, config: GuardConfig) -> list[str]:
    """The guard's own tag keys among those the call writes or removes (IAM tag keys are
    case-insensitive for uniqueness: compared so)."""
    mine = {config.common.exemption_tag_key.lower(), config.mode_tag_key.lower()}
    return [key for key in change.tag_keys if key.lower() in mine]


@automation(AUTOMATION, config=GuardConfig.from_env,
            triggers={Trigger.API_CALL, Trigger.SCHEDULE})
def lambda_handler(run: Invocation[GuardConfig]) -> dict[str, Any]:
    config = run.config
    if run.trigger is Trigger.SCHEDULE:
        def daily(target: Target, executor: Executor) -> TargetRun:
            reader = IamReader(target.session.client("iam"))
            checked = sweep(reader, executor, config, target.account_id)
            run_ = summary(executor.outcomes, config.common.dry_run, "daily sweep")
            run_.extra["checked"] = checked
            return run_

        # IAM is global: one sweep per account, whatever regions the stack targets.
        accounts = dict.fromkeys(a for a, _ in target_pairs(config.common, run.home_account))
        return run.targets(daily, pairs=[(account, IAM_REGION) for account in accounts])
    if run.event.get("source") != "aws.iam":
        why = str(EventError("source", run.event.get("source"), "aws.iam"))
        raise Skip(f"malformed: {why}", record_ids(run.event))
    # The function's own calls: its role's name in its own account (the role's full ARN); a
    # role of that name in another account is anyone's.
    home = run.home_account
    call = read_call(run.event, own_role_name=config.own_role_name, handled=CALLS,
                     unhandled="{name} is not an IAM change the guard checks", own_account=home)
    try:
        change = iam_change(call)
    except EventError as exc:
        raise Skip(f"malformed: {exc}", record_ids(run.event)) from None
    # The record names the account to act in: only a configured target (TARGET_ACCOUNTS,
    # empty = this account) is acted on, whatever the record says.
    targets = dict.fromkeys(a for a, _ in target_pairs(config.common, home))
    if call.account not in targets:
        why = str(EventError("detail.recipientAccountId", call.account,
                             "one of the target accounts " + ", ".join(targets)))
        raise Skip(f"not a target: {why}", call.ids)
    if change.event_name in TAG_CALLS and not guard_tags(change, config):
        raise Skip("tags other than the guard's: nothing to check", call.ids)
    if change.event_name == "CreatePolicyVersion" and call.request.get("setAsDefault") is not True:
        raise Skip("a policy version not made default grants nothing (SetDefaultPolicyVersion "
                   "is checked)", call.ids)
    if change.event_name == "CreateAccessKey" and not change.by_root:
        raise Skip("a user's access key: access_key_auditor's, not the guard's", call.ids)

    def one_change(target: Target, executor: Executor) -> TargetRun:
        reader = IamReader(target.session.client("iam"))
        scope = f"{call.event_name} on {change.name or change.policy_arn or 'root'}"
        guarded(executor, change.name or change.policy_arn or call.account, scope,
                partial(_check, change, reader, executor, config, call.account))
        return summary(executor.outcomes, config.common.dry_run, scope, trigger(call))

    return run.targets(one_change, pairs=[(call.account, IAM_REGION)])
