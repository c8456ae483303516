"""Lambda entry point of the unused-resource cleanup (daily schedule)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from opskit.actions import Executor
from opskit.aws import Target
from opskit.dispatch import worker
from opskit.events import require_scheduled_event
from opskit.runner import TargetRun, run_automation
from resource_cleanup.cleanup import Cleaner, run_cleanup
from resource_cleanup.finders import Finder
from resource_cleanup.settings import CleanupConfig

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@worker("resource_cleanup")
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    config = CleanupConfig.from_env()
    now = require_scheduled_event(event)

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        ec2, elbv2, logs = (session.client("ec2"), session.client("elbv2"),
                            session.client("logs"))
        finder = Finder(ec2, elbv2, logs, config, target.region, target.account_id, now)
        return run_cleanup(finder, Cleaner(ec2, elbv2, logs, config), executor, config, now)

    return run_automation(config.common, work, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          event=event.raw_event)
