"""Lambda entry point of the auto-tagger (CloudTrail create calls; daily required-tags sweep)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from auto_tagger.resources import EXTRACTORS
from auto_tagger.settings import TaggerConfig
from auto_tagger.sweep import sweep
from auto_tagger.taggers import Taggers
from auto_tagger.tagging import skip_reason, tag_call
from opskit.actions import Executor
from opskit.aws import Target
from opskit.cloudtrail import API_CALL, read_call, record_ids, skipped_event
from opskit.dispatch import worker
from opskit.events import require_object, require_scheduled_event
from opskit.runner import TargetRun, run_automation

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@worker("auto_tagger")
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    config = TaggerConfig.from_env()
    raw = require_object(event.raw_event)
    if event.get("detail-type") != API_CALL:
        require_scheduled_event(event)

        def run_sweep(target: Target, executor: Executor) -> TargetRun:
            return sweep(target.session.client("resourcegroupstaggingapi"), executor, config)

        return run_automation(config.common, run_sweep, run_id=context.aws_request_id,
                              remaining_ms=context.get_remaining_time_in_millis,
                              event=event.raw_event)
    call = read_call(raw, config.common, own_role_name=config.own_role_name, handled=EXTRACTORS,
                     unhandled="{name} is not a supported create call")
    if isinstance(call, dict):
        return call
    why = skip_reason(call, config)
    if why is not None:
        return skipped_event(config.common, why, record_ids(raw))

    def work(target: Target, executor: Executor) -> TargetRun:
        return tag_call(call, Taggers(target.session), executor, config)

    return run_automation(config.common, work, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          pairs=[(call.account, call.region)])
