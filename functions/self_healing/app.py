"""Lambda entry point of the self-healing (CloudWatch alarm state changes)."""

from __future__ import annotations

from typing import Any

from opskit.actions import Executor
from opskit.aws import Target
from opskit.handler import Invocation, Trigger, automation
from opskit.runner import TargetRun
from self_healing.alarm import parse_alarm
from self_healing.healing import Clients, Guards, heal
from self_healing.restart import Clock, Restarter, SystemClock
from self_healing.settings import HealConfig

clock: Clock = SystemClock()  # the stop/start's waits (tests put a fake clock here)


@automation("self_healing", config=HealConfig.from_env, triggers={Trigger.ALARM})
def lambda_handler(run: Invocation[HealConfig]) -> dict[str, Any]:
    config, alarm = run.config, parse_alarm(run.event)

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        clients = Clients(session.client("ec2"), session.client("ecs"),
                          session.client("autoscaling"), session.client("cloudwatch"),
                          session.client("resourcegroupstaggingapi"))
        restarter = Restarter(clients.ec2, clock,
                              lambda: run.context.get_remaining_time_in_millis() / 1000)
        return heal(clients, alarm, executor, config,
                    guards=Guards(clients, config, alarm.time), restarter=restarter)

    return run.targets(work, pairs=[(alarm.account, alarm.region)])
