"""Lambda entry point of the instance scheduler (EventBridge Scheduler, every few minutes)."""

from __future__ import annotations

from typing import Any

from instance_scheduler.scheduler import schedule_target
from instance_scheduler.settings import SchedulerConfig
from opskit.actions import Executor
from opskit.aws import Target
from opskit.handler import Invocation, Trigger, automation
from opskit.observability import logger
from opskit.runner import TargetRun


@automation("instance_scheduler", config=SchedulerConfig.from_env, triggers={Trigger.SCHEDULE},
            dispatch=True)
def lambda_handler(run: Invocation[SchedulerConfig]) -> dict[str, Any]:
    now, config = run.now, run.config
    logger.info("scheduler run", extra={"now": now.isoformat(),
                                        "scheduled_time": run.event.get("time"),
                                        "dry_run": config.common.dry_run})

    def work(target: Target, executor: Executor) -> TargetRun:
        return schedule_target(target, executor, config, now)

    return run.targets(work)
