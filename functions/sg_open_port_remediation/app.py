"""Lambda entry point of the open-port remediation (CloudTrail ingress changes; daily sweep)."""

from __future__ import annotations

from typing import Any

from opskit.actions import Executor
from opskit.aws import Target
from opskit.cloudtrail import read_call, record_ids, trigger
from opskit.events import EventError
from opskit.handler import Invocation, Skip, Trigger, automation
from opskit.runner import TargetRun
from sg_open_port_remediation.events import CALLS, group_change
from sg_open_port_remediation.inventory import group_ids_named
from sg_open_port_remediation.remediation import ambiguous_name, check
from sg_open_port_remediation.settings import AUTOMATION, SgConfig


@automation(AUTOMATION, config=SgConfig.from_env, triggers={Trigger.API_CALL, Trigger.SCHEDULE},
            dispatch=True)
def lambda_handler(run: Invocation[SgConfig]) -> dict[str, Any]:
    config = run.config
    if run.trigger is Trigger.SCHEDULE:
        def sweep(target: Target, executor: Executor) -> TargetRun:
            return check(target.session.client("ec2"), executor, config,
                         scope=f"sweep of {target.region}")

        return run.targets(sweep)
    call = read_call(run.event, own_role_name=config.own_role_name, handled=CALLS,
                     unhandled="{name} cannot open a port")
    try:
        change = group_change(call)
    except EventError as exc:
        raise Skip(f"malformed: {exc}", record_ids(run.event)) from None

    def one_group(target: Target, executor: Executor) -> TargetRun:
        ec2 = target.session.client("ec2")
        group_id = change.group_id
        if group_id is None and change.group_name is not None:
            named = group_ids_named(ec2, change.group_name)
            if len(named) > 1:  # never guess which group the call changed
                return ambiguous_name(change.group_name, named, call.event_name,
                                      extra=trigger(call))
            group_id = named[0] if named else None
        label = group_id or change.group_name or "?"
        return check(ec2, executor, config, scope=f"{call.event_name} on {label}",
                     group_ids=[group_id or str(change.group_name)], opened_by=change.opened_by,
                     extra=trigger(call))

    return run.targets(one_group, pairs=[(call.account, call.region)])
