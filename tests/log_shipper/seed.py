"""What the sample events need: the bucket and its key, the shipper's settings, and a log group
tagged to be shipped (the reconciliation sample plans its subscription)."""

from __future__ import annotations

import contextlib
import os
from unittest import mock

import boto3

from tests.conftest import REGION

BUCKET = "opskit-logs-123456789012-eu-west-1"
SHIPPED_GROUP = "/aws/lambda/orders-api"


def create_destination() -> dict[str, str]:
    """The bucket and key (inside moto); the variables naming them."""
    key = boto3.client("kms", region_name=REGION).create_key(
        Description="shipped logs")["KeyMetadata"]["Arn"]
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return {"LOG_BUCKET": BUCKET, "LOG_KMS_KEY_ARN": key}


def seed(event_name: str) -> contextlib.ExitStack:
    """Call inside moto; the returned stack, entered around the handler, sets the variables."""
    variables = create_destination()
    boto3.client("logs", region_name=REGION).create_log_group(
        logGroupName=SHIPPED_GROUP, tags={"opskit:ship-logs": "true"})
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.dict(os.environ, variables))
    return stack
