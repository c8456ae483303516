"""What the sample events need: the bucket and its key, the shipper's settings, and a log group
tagged to be shipped (the reconciliation sample plans its subscription)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
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


# The function a live reconciliation names as the filters' destination, as each context calls it
# (the tests' fake context, the built artifact's runner): CloudWatch Logs refuses a filter whose
# function does not exist (moto as AWS: "Could not execute the lambda function").
SHIPPER_NAMES = ("opskit-test", "LogShipperFunction")


def create_shipper_functions() -> None:
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="log-shipper-sample", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
    client = boto3.client("lambda", region_name=REGION)
    for name in SHIPPER_NAMES:
        client.create_function(FunctionName=name, Runtime="python3.13", Role=role,
                               Handler="app.lambda_handler", Code={"ZipFile": package.getvalue()})


def seed(event_name: str) -> contextlib.ExitStack:
    """Call inside moto; the returned stack, entered around the handler, sets the variables."""
    variables = create_destination()
    if event_name.startswith("reconcile"):
        create_shipper_functions()
    boto3.client("logs", region_name=REGION).create_log_group(
        logGroupName=SHIPPED_GROUP, tags={"opskit:ship-logs": "true"})
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.dict(os.environ, variables))
    return stack
