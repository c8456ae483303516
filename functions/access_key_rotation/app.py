"""Lambda entry point of the access-key rotation: Secrets Manager calls it once per step; a daily
schedule runs the timeline (the replaced key's overlap, deactivation and deletion)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from access_key_rotation.protocol import KeySecret, RotationError, RotationEvent
from access_key_rotation.steps import Rotator
from access_key_rotation.timeline import Periods, run_timeline
from opskit.actions import Executor
from opskit.aws import Target
from opskit.config import CommonConfig, Env
from opskit.events import EventError, require_object, require_scheduled_event
from opskit.runner import TargetRun, run_automation

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

AUTOMATION = "access_key_rotation"
logger = Logger()
metrics = Metrics()
# The step retries the new key itself (IAM eventual consistency): one attempt per call here.
_ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def sts_with(region: str) -> Any:
    def sts_for(secret: KeySecret) -> STSClient:
        return boto3.client("sts", region_name=region, config=_ONE_ATTEMPT,
                            aws_access_key_id=secret.access_key_id,
                            aws_secret_access_key=secret.secret_access_key)
    return sts_for


@logger.inject_lambda_context(log_event=True)  # the event holds ids only, never a secret
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = CommonConfig.from_env(AUTOMATION)
    periods = read_periods()
    if "Step" not in require_object(event):
        return timeline(event, context, config, periods)
    rotation = RotationEvent.parse(event)
    if not rotation.account:
        raise EventError("SecretId", rotation.secret_id, "a secret ARN, as Secrets Manager sends")

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        rotator = Rotator(session.client("secretsmanager"), session.client("iam"),
                          sts_with(target.region), executor, periods=periods)
        return rotator.run(rotation)

    result = run_automation(config, work, run_id=context.aws_request_id,
                            remaining_ms=context.get_remaining_time_in_millis,
                            pairs=[(rotation.account, rotation.region)])
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


def timeline(event: dict[str, Any], context: LambdaContext, config: CommonConfig,
             periods: Periods) -> dict[str, Any]:
    """The daily run: only the template's schedule event, in the function's own account and
    region, at the Lambda's clock."""
    now = require_scheduled_event(EventBridgeEvent(event))
    account, region = context.invoked_function_arn.split(":")[4], config.home_region

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        return run_timeline(session.client("secretsmanager"), session.client("iam"), executor,
                            periods, now)

    return run_automation(config, work, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          pairs=[(account, region)], event=event)
