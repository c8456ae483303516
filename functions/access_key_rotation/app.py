"""Lambda entry point of the access-key rotation: Secrets Manager calls it once per step; a daily
schedule runs the timeline (the replaced key's overlap, deactivation and deletion)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from access_key_rotation.protocol import KeySecret, RotationError, RotationEvent
from access_key_rotation.steps import Rotator
from access_key_rotation.timeline import Periods, run_timeline
from opskit.actions import Executor
from opskit.aws import Target
from opskit.config import CommonConfig, Env
from opskit.events import EventError
from opskit.handler import Invocation, Trigger, automation
from opskit.runner import TargetRun

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

AUTOMATION = "access_key_rotation"
# The step retries the new key itself (IAM eventual consistency): one attempt per call here.
_ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def sts_with(region: str) -> Any:
    def sts_for(secret: KeySecret) -> STSClient:
        return boto3.client("sts", region_name=region, config=_ONE_ATTEMPT,
                            aws_access_key_id=secret.access_key_id,
                            aws_secret_access_key=secret.secret_access_key)
    return sts_for


@dataclass(frozen=True)
class RotationConfig:
    common: CommonConfig
    periods: Periods

    @classmethod
    def from_env(cls) -> RotationConfig:
        return cls(CommonConfig.from_env(AUTOMATION), read_periods())


# The event holds ids only, never a secret: it is logged.
@automation(AUTOMATION, config=RotationConfig.from_env,
            triggers={Trigger.ROTATION, Trigger.SCHEDULE}, log_event=True)
def lambda_handler(run: Invocation[RotationConfig]) -> dict[str, Any]:
    if run.trigger is Trigger.SCHEDULE:
        return timeline(run)
    config, periods = run.config.common, run.config.periods
    rotation = RotationEvent.parse(run.event)
    if not rotation.account:
        raise EventError("SecretId", rotation.secret_id, "a secret ARN, as Secrets Manager sends")

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        rotator = Rotator(session.client("secretsmanager"), session.client("iam"),
                          sts_with(target.region), executor, periods=periods)
        return rotator.run(rotation)

    result = run.targets(work, pairs=[(rotation.account, rotation.region)])
    for failure in result["failed_targets"]:
        raise RotationError(f"{rotation.step} failed: {failure['error']}")
    if config.dry_run and result["counts"]["planned"]:
        # Stop the rotation here: Secrets Manager keeps AWSCURRENT and records the failure.
        raise RotationError(f"{rotation.step} planned, nothing changed: DRY_RUN is true")
    return result


def read_periods() -> Periods:
    env = Env()
    return Periods(
        overlap=timedelta(days=env.integer("ROTATION_OVERLAP_DAYS", 10, minimum=0, maximum=365)),
        delete_after=timedelta(days=env.integer("ROTATION_DELETE_AFTER_DAYS", 10, minimum=1,
                                                maximum=3650)),
        other_delete_after=timedelta(days=env.integer("KEY_DELETE_AFTER_DAYS", 30, minimum=1,
                                                      maximum=3650)))


def timeline(run: Invocation[RotationConfig]) -> dict[str, Any]:
    """The daily run: only the template's schedule event (checked by the handler kit), in the
    function's own account and region, at the Lambda's clock."""
    periods, now = run.config.periods, run.now

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        return run_timeline(session.client("secretsmanager"), session.client("iam"), executor,
                            periods, now)

    return run.targets(work, pairs=[(run.home_account, run.config.common.home_region)])
