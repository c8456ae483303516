"""Lambda entry point of the unused-resource cleanup (daily schedule)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from opskit.actions import Executor
from opskit.aws import Target, target_regions
from opskit.dispatch import worker
from opskit.events import require_scheduled_event
from opskit.runner import TargetRun, run_automation
from resource_cleanup.cleanup import Cleaner, run_cleanup
from resource_cleanup.finders import Finder
from resource_cleanup.inventory import Inventories
from resource_cleanup.reread import Rereader
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
    # Each region read at most once in this invocation: a snapshot's volume may be elsewhere.
    inventories = Inventories(cache(lambda: tuple(target_regions(config.common))))

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        elbv2, logs = session.client("elbv2"), session.client("logs")
        inventory = inventories.of(target)
        finder = Finder(elbv2, logs, config, target.account_id, now, inventory,
                        lambda: inventories.covered(target))
        rereader = Rereader(elbv2, logs, session.client("cloudtrail"), config, now, inventory)
        return run_cleanup(finder, Cleaner(inventory.ec2, elbv2, logs, config), rereader,
                           executor, config=config, now=now)

    return run_automation(config.common, work, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          event=event.raw_event)
