"""Lambda entry point of the open-port remediation (CloudTrail ingress changes; daily sweep)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from opskit.actions import Executor
from opskit.aws import Target
from opskit.cloudtrail import API_CALL, read_call, record_ids, skipped_event, trigger
from opskit.dispatch import worker
from opskit.events import EventError, require_object, require_scheduled_event
from opskit.runner import TargetRun, run_automation
from sg_open_port_remediation.events import CALLS, group_change
from sg_open_port_remediation.inventory import group_ids_named
from sg_open_port_remediation.remediation import ambiguous_name, check
from sg_open_port_remediation.settings import AUTOMATION, SgConfig

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@worker(AUTOMATION)
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    config = SgConfig.from_env()
    raw = require_object(event.raw_event)
    if event.get("detail-type") != API_CALL:
        require_scheduled_event(event)

        def sweep(target: Target, executor: Executor) -> TargetRun:
            return check(target.session.client("ec2"), executor, config,
                         scope=f"sweep of {target.region}")

        return run_automation(config.common, sweep, run_id=context.aws_request_id,
                              remaining_ms=context.get_remaining_time_in_millis,
                              event=event.raw_event)
    call = read_call(raw, config.common, own_role_name=config.own_role_name, handled=CALLS,
                     unhandled="{name} cannot open a port")
    if isinstance(call, dict):
        return call
    try:
        change = group_change(call)
    except EventError as exc:
        return skipped_event(config.common, f"malformed: {exc}", record_ids(raw))

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

    return run_automation(config.common, one_group, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          pairs=[(call.account, call.region)])
