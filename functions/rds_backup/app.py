"""Lambda entry point of the RDS backup (nightly backup run; hourly reconcile of exports/copies)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from opskit.actions import Executor
from opskit.aws import Target
from opskit.events import EventError
from opskit.handler import Invocation, Trigger, automation
from opskit.runner import TargetRun
from rds_backup.backup import Mode, run_backup
from rds_backup.settings import BackupConfig


def read_mode(event: dict[str, Any]) -> Mode:
    """The run's mode (`detail.mode` of the schedule's event, default backup)."""
    detail = event.get("detail") or {}
    mode = detail.get("mode", Mode.BACKUP.value) if isinstance(detail, dict) else None
    if not isinstance(mode, str) or mode not in {m.value for m in Mode}:
        raise EventError("detail.mode", mode, "backup or reconcile")
    return Mode(mode)


@automation("rds_backup", config=BackupConfig.from_env, triggers={Trigger.SCHEDULE},
            dispatch=True)
def lambda_handler(run: Invocation[BackupConfig]) -> dict[str, Any]:
    config, mode, now, home_account = run.config, read_mode(run.event), run.now, run.home_account

    def work(target: Target, executor: Executor) -> TargetRun:
        rds = target.session.client("rds")
        # The bucket, export role and key are the stack's: exports run in its account and region.
        here = (target.account_id, target.region) == (home_account, config.common.home_region)
        settings = config if here else replace(config, export=None)
        dr = (target.session.client("rds", region_name=config.dr_region)
              if config.dr_region and config.dr_region != target.region else None)
        return run_backup(rds, dr, executor, settings, mode=mode, now=now, region=target.region)

    return run.targets(work)
