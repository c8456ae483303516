"""Lambda entry point of the self-healing (CloudWatch alarm state changes)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from opskit.actions import Executor
from opskit.aws import Target
from opskit.runner import TargetRun, run_automation
from self_healing.alarm import parse_alarm
from self_healing.healing import Clients, Guards, heal
from self_healing.restart import Clock, Restarter, SystemClock
from self_healing.settings import HealConfig

logger = Logger()
metrics = Metrics()
clock: Clock = SystemClock()  # the stop/start's waits (tests put a fake clock here)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = HealConfig.from_env()
    alarm = parse_alarm(event)

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        clients = Clients(session.client("ec2"), session.client("ecs"),
                          session.client("autoscaling"), session.client("cloudwatch"),
                          session.client("resourcegroupstaggingapi"))
        restarter = Restarter(clients.ec2, clock,
                              lambda: context.get_remaining_time_in_millis() / 1000)
        return heal(clients, alarm, executor, config,
                    guards=Guards(clients, config, alarm.time), restarter=restarter)

    return run_automation(config.common, work, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          pairs=[(alarm.account, alarm.region)])
