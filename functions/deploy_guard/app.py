"""Lambda entry point of the deployment guard (CodeDeploy lifecycle hooks, CodePipeline jobs).

The kit's DEPLOYMENT trigger leaves the event to deploy_guard.events, which answers even an
event it refuses. The configuration is read by the kit once per container; one it refuses is
handed to the body instead of raised, so the hook or job is still answered (Failed) before the
invocation fails with the error.
"""

from __future__ import annotations

from typing import Any

from deploy_guard.checks import Clock, SystemClock
from deploy_guard.review import AnswerNotSentError, answer_config_error, handle
from deploy_guard.settings import AUTOMATION, GuardConfig
from opskit.config import ConfigError
from opskit.handler import Invocation, Trigger, automation

__all__ = ["AnswerNotSentError", "lambda_handler"]
clock: Clock = SystemClock()  # the checks' waits and timings (tests put a fake clock here)


def _config() -> GuardConfig | ConfigError:
    try:
        return GuardConfig.from_env()
    except ConfigError as error:
        return error


@automation(AUTOMATION, config=_config, triggers={Trigger.DEPLOYMENT})
def lambda_handler(run: Invocation[GuardConfig | ConfigError]) -> dict[str, Any]:
    if isinstance(run.config, ConfigError):
        answer_config_error(run.event, run.context, run.config)  # never leave it waiting
        raise run.config
    return handle(run.event, run.context, run.config, clock)
