"""Lambda entry point of the public-S3 remediation (CloudTrail bucket changes; daily sweep)."""

from __future__ import annotations

from typing import Any

from opskit.actions import Executor
from opskit.aws import Target, target_regions
from opskit.cloudtrail import read_call, record_ids, trigger
from opskit.events import EventError, is_identifier
from opskit.handler import Invocation, Skip, Trigger, automation
from opskit.runner import TargetRun
from s3_public_remediation.buckets import BucketReader
from s3_public_remediation.remediation import check_buckets
from s3_public_remediation.settings import AUTOMATION, S3Config

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


@automation(AUTOMATION, config=S3Config.from_env, triggers={Trigger.API_CALL, Trigger.SCHEDULE},
            dispatch=True)
def lambda_handler(run: Invocation[S3Config]) -> dict[str, Any]:
    config = run.config
    if run.trigger is Trigger.SCHEDULE:
        def sweep(target: Target, executor: Executor) -> TargetRun:
            reader = _reader(target)
            return check_buckets(reader, reader.bucket_names(target.region), executor, config,
                                 scope=f"sweep of {target.region}")

        return run.targets(sweep)
    call = read_call(run.event, own_role_name=config.own_role_name,
                     handled=BUCKET_CALLS | ACCOUNT_CALLS,
                     unhandled="{name} cannot make a bucket public")
    bucket = call.request.get("bucketName")
    if call.event_name in BUCKET_CALLS and not is_identifier(bucket):
        why = str(EventError("detail.requestParameters.bucketName", bucket, "a bucket name"))
        raise Skip(f"malformed: {why}", record_ids(run.event))

    if call.event_name in ACCOUNT_CALLS:
        # The account-wide setting changed: every bucket of the account, in every target region.
        def account(target: Target, executor: Executor) -> TargetRun:
            reader = _reader(target)
            return check_buckets(reader, reader.bucket_names(target.region), executor, config,
                                 scope=f"{call.event_name} in {target.account_id}",
                                 extra=trigger(call))

        regions = target_regions(config.common)
        return run.targets(account, pairs=[(call.account, region) for region in regions])

    def one_bucket(target: Target, executor: Executor) -> TargetRun:
        return check_buckets(_reader(target), [str(bucket)], executor, config,
                             scope=f"{call.event_name} on {bucket}", extra=trigger(call))

    return run.targets(one_bucket, pairs=[(call.account, call.region)])
