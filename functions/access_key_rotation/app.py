"""Lambda entry point of the access-key rotation (invoked by Secrets Manager, one step a call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from access_key_rotation.protocol import KeySecret, RotationError, RotationEvent
from access_key_rotation.steps import Rotator
from opskit.actions import Executor
from opskit.aws import Target
from opskit.config import CommonConfig
from opskit.events import EventError
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
    rotation = RotationEvent.parse(event)
    if not rotation.account:
        raise EventError("SecretId", rotation.secret_id, "a secret ARN, as Secrets Manager sends")

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        rotator = Rotator(session.client("secretsmanager"), session.client("iam"),
                          sts_with(target.region), executor)
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
