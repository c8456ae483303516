"""The plan's read-only guard: the allow-list rule, and a write refused before it is sent."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from opskit_cli.guard import WriteRefused, is_read, read_only
from tests.conftest import REGION


@pytest.mark.parametrize(("service", "operation"), [
    ("ec2", "DescribeInstances"),
    ("s3", "ListBuckets"),
    ("s3", "ListObjectsV2"),
    ("s3", "GetBucketPolicy"),
    ("s3", "HeadBucket"),
    ("cloudtrail", "LookupEvents"),
    ("resource-explorer-2", "SearchResources"),
    ("dynamodb", "BatchGetItem"),
    ("sts", "GetCallerIdentity"),
    ("sts", "AssumeRole"),
    ("iam", "GenerateCredentialReport"),
    ("dynamodb", "Query"),
])
def test_reads_are_let_through(service: str, operation: str) -> None:
    assert is_read(service, operation)


@pytest.mark.parametrize(("service", "operation"), [
    ("ec2", "StopInstances"),
    ("ec2", "CreateTags"),
    ("s3", "PutPublicAccessBlock"),
    ("s3", "DeleteBucketPolicy"),
    ("sns", "Publish"),
    ("sqs", "SendMessageBatch"),
    ("rds", "AddTagsToResource"),
    ("kms", "GenerateDataKey"),  # Generate* is a read only where listed
    ("iam", "UpdateAccessKey"),
    ("autoscaling", "SetInstanceHealth"),
    ("dynamodb", "BatchWriteItem"),
    ("lambda", "Invoke"),
    ("ec2", "Describe"),  # a prefix alone is no operation
    ("ec2", "Getaway"),  # the prefix must be a whole word: Get + a capital
    ("sts", "AssumeRoleWithSAML"),  # only the sign-in a plan needs
])
def test_everything_else_is_refused(service: str, operation: str) -> None:
    assert not is_read(service, operation)


def test_a_write_is_refused_before_any_request_and_changes_nothing(aws: None) -> None:
    sent: list[str] = []

    def spy(request: Any = None, **_: Any) -> None:
        sent.append(request.url)

    image = boto3.client("ec2", region_name=REGION).describe_images(
        Owners=["amazon"])["Images"][0]["ImageId"]
    instance = boto3.client("ec2", region_name=REGION).run_instances(
        ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    with read_only() as guard:
        ec2 = boto3.session.Session().client("ec2", region_name=REGION)
        ec2.meta.events.register("before-send.ec2.*", spy)
        assert ec2.describe_instances(InstanceIds=[instance])["Reservations"]
        reads = len(sent)
        with pytest.raises(WriteRefused, match=r"refused ec2\.CreateTags"):
            ec2.create_tags(Resources=[instance], Tags=[{"Key": "Owner", "Value": "me"}])
        with pytest.raises(WriteRefused, match=r"refused ec2\.StopInstances"):
            ec2.stop_instances(InstanceIds=[instance])
    assert reads == 1
    assert len(sent) == reads  # nothing left this process for the writes
    assert guard.refused == [("ec2", "CreateTags"), ("ec2", "StopInstances")]
    described = boto3.client("ec2", region_name=REGION).describe_instances(
        InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    assert described["State"]["Name"] == "running"
    assert "Tags" not in described or described["Tags"] == []


def test_sessions_made_after_the_block_are_not_guarded(aws: None) -> None:
    with read_only():
        pass
    sns = boto3.session.Session().client("sns", region_name=REGION)
    assert sns.create_topic(Name="after")["TopicArn"]
