"""Lambda entry point of the instance scheduler (EventBridge Scheduler, every few minutes)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from instance_scheduler.scheduler import schedule_target
from instance_scheduler.settings import SchedulerConfig
from opskit.actions import Executor
from opskit.aws import Target
from opskit.dispatch import worker
from opskit.events import require_scheduled_event
from opskit.runner import TargetRun, run_automation

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@worker("instance_scheduler")
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    now = require_scheduled_event(event)
    config = SchedulerConfig.from_env()
    logger.info("scheduler run", extra={"now": now.isoformat(), "scheduled_time": event.time,
                                        "dry_run": config.common.dry_run})

    def work(target: Target, executor: Executor) -> TargetRun:
        return schedule_target(target, executor, config, now)

    return run_automation(config.common, work, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          event=event.raw_event)
