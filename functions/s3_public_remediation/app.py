"""Lambda entry point of the public-S3 remediation (CloudTrail bucket changes; daily sweep)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from opskit.actions import Executor
from opskit.aws import Target, target_regions
from opskit.cloudtrail import API_CALL, read_call, record_ids, skipped_event, trigger
from opskit.dispatch import worker
from opskit.events import EventError, is_identifier, require_object, require_scheduled_event
from opskit.runner import TargetRun, run_automation
from s3_public_remediation.buckets import BucketReader
from s3_public_remediation.remediation import check_buckets
from s3_public_remediation.settings import AUTOMATION, S3Config

logger = Logger()
metrics = Metrics()

# Calls that can make one bucket public (or stop protecting it).
BUCKET_CALLS = frozenset({
    "CreateBucket",
    "PutBucketAcl",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketPublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
    "PutBucketWebsite",
    "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls",
})
# Calls that change the account-wide floor: every bucket of the account is checked again.
ACCOUNT_CALLS = frozenset({"PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"})


def _reader(target: Target) -> BucketReader:
    return BucketReader(target.session.client("s3"), target.session.client("s3control"),
                        target.account_id)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@worker(AUTOMATION)
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    config = S3Config.from_env()
    raw = require_object(event.raw_event)
    if event.get("detail-type") != API_CALL:
        require_scheduled_event(event)

        def sweep(target: Target, executor: Executor) -> TargetRun:
            reader = _reader(target)
            return check_buckets(reader, reader.bucket_names(target.region), executor, config,
                                 scope=f"sweep of {target.region}")

        return run_automation(config.common, sweep, run_id=context.aws_request_id,
                              remaining_ms=context.get_remaining_time_in_millis,
                              event=event.raw_event)
    call = read_call(raw, config.common, own_role_name=config.own_role_name,
                     handled=BUCKET_CALLS | ACCOUNT_CALLS,
                     unhandled="{name} cannot make a bucket public")
    if isinstance(call, dict):
        return call
    bucket = call.request.get("bucketName")
    if call.event_name in BUCKET_CALLS and not is_identifier(bucket):
        why = str(EventError("detail.requestParameters.bucketName", bucket, "a bucket name"))
        return skipped_event(config.common, f"malformed: {why}", record_ids(raw))

    if call.event_name in ACCOUNT_CALLS:
        # The account-wide setting changed: every bucket of the account, in every target region.
        def account(target: Target, executor: Executor) -> TargetRun:
            reader = _reader(target)
            return check_buckets(reader, reader.bucket_names(target.region), executor, config,
                                 scope=f"{call.event_name} in {target.account_id}",
                                 extra=trigger(call))

        regions = target_regions(config.common)
        return run_automation(config.common, account, run_id=context.aws_request_id,
                              remaining_ms=context.get_remaining_time_in_millis,
                              pairs=[(call.account, region) for region in regions])

    def one_bucket(target: Target, executor: Executor) -> TargetRun:
        return check_buckets(_reader(target), [str(bucket)], executor, config,
                             scope=f"{call.event_name} on {bucket}", extra=trigger(call))

    return run_automation(config.common, one_bucket, run_id=context.aws_request_id,
                          remaining_ms=context.get_remaining_time_in_millis,
                          pairs=[(call.account, call.region)])
