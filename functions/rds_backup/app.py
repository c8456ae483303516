"""Lambda entry point of the RDS backup (nightly backup run; hourly reconcile of exports/copies)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from opskit.actions import Executor
from opskit.aws import Target
from opskit.dispatch import worker
from opskit.events import EventError, require_scheduled_event
from opskit.runner import TargetRun, run_automation
from rds_backup.backup import Mode, run_backup
from rds_backup.settings import BackupConfig

logger = Logger()
metrics = Metrics()


def read_mode(event: EventBridgeEvent) -> tuple[Mode, datetime]:
    """The run's mode (`detail.mode`, default backup) and its clock (the Lambda's, in UTC)."""
    when = require_scheduled_event(event)
    detail = event.raw_event.get("detail") or {}
    mode = detail.get("mode", Mode.BACKUP.value) if isinstance(detail, dict) else None
    if not isinstance(mode, str) or mode not in {m.value for m in Mode}:
        raise EventError("detail.mode", mode, "backup or reconcile")
    return Mode(mode), when


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@worker("rds_backup")
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    config = BackupConfig.from_env()
    mode, now = read_mode(event)
    home_account = context.invoked_function_arn.split(":")[4]

    def work(target: Target, executor: Executor) -> TargetRun:
        rds = target.session.client("rds")
        # The bucket, export role and key are the stack's: exports run in its account and region.
        here = (target.account_id, target.region) == (home_account, config.common.home_region)
        settings = config if here else replace(config, export=None)
        dr = (target.session.client("rds", region_name=config.dr_region)
              if config.dr_region and config.dr_region != target.region else None)
        return run_backup(rds, dr, executor, settings, mode=mode, now=now, region=target.region)

    return run_automation(config.common, work, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          event=event.raw_event)
