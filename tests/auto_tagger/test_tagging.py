"""The auto-tagger on moto: every resource type, no overwrite, S3 merge, skips, identities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from auto_tagger.identity import creator_of
from tests.auto_tagger.conftest import handle
from tests.cloudtrail import ACCOUNT, ALICE, api_call
from tests.conftest import EVENTS, ApiCalls, FakeLambdaContext, load_event

EXPECTED = {"opskit:creator-arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "opskit:creator": "alice", "opskit:created-at": "2026-11-23T09:15:02Z",
            "opskit:cloudtrail-event-id": "e1d2c3b4-a596-4877-8a9b-0c1d2e3f4a5b"}




def ec2_tags(resource: str) -> dict[str, str]:
    tags = boto3.client("ec2").describe_tags(
        Filters=[{"Name": "resource-id", "Values": [resource]}])["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


@pytest.mark.usefixtures("aws")
def test_run_instances_tags_instances_in_one_call(lambda_context: FakeLambdaContext,
                                                  api_calls: ApiCalls) -> None:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3)[
        "Instances"]]
    api_calls.reset()
    result = handle(api_call("RunInstances", "ec2", request={"instanceType": "t3.micro"},
                             response={"instancesSet": {"items": [{"instanceId": i}
                                                                  for i in ids]}}),
                    lambda_context)
    assert result["counts"]["done"] == 3
    assert api_calls.of("ec2", "CreateTags") == 1
    assert api_calls.of("ec2", "DescribeTags") == 1
    for instance in ids:
        assert ec2_tags(instance) == EXPECTED


@pytest.mark.usefixtures("aws")
def test_existing_tags_are_never_overwritten_and_redelivery_is_a_no_op(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    ec2 = boto3.client("ec2")
    volume = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=8, TagSpecifications=[{
        "ResourceType": "volume", "Tags": [{"Key": "opskit:creator", "Value": "terraform"}]}])[
        "VolumeId"]
    event = api_call("CreateVolume", "ec2", response={"volumeId": volume})
    handle(event, lambda_context)
    tags = ec2_tags(volume)
    assert tags["opskit:creator"] == "terraform"
    assert tags["opskit:creator-arn"] == EXPECTED["opskit:creator-arn"]
    api_calls.reset()
    result = handle(event, lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert api_calls.of("ec2", "CreateTags") == 0


@pytest.mark.usefixtures("aws")
def test_s3_tags_are_merged_and_missing_tag_set_is_handled(
        lambda_context: FakeLambdaContext) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="fresh-bucket",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.create_bucket(Bucket="team-bucket",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_tagging(Bucket="team-bucket", Tagging={"TagSet": [
        {"Key": "Team", "Value": "data"}, {"Key": "opskit:creator", "Value": "bob"}]})
    for bucket in ("fresh-bucket", "team-bucket"):
        handle(api_call("CreateBucket", "s3", request={"bucketName": bucket}, response=None),
               lambda_context)
    fresh = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="fresh-bucket")["TagSet"]}
    assert fresh == EXPECTED
    team = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="team-bucket")["TagSet"]}
    assert team == {**EXPECTED, "Team": "data", "opskit:creator": "bob"}


@pytest.mark.usefixtures("aws")
def test_s3_tag_limit_is_respected(lambda_context: FakeLambdaContext) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="full-bucket",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    full = [{"Key": f"k{i}", "Value": "v"} for i in range(48)]
    s3.put_bucket_tagging(Bucket="full-bucket", Tagging={"TagSet": full})
    result = handle(api_call("CreateBucket", "s3", request={"bucketName": "full-bucket"}),
                    lambda_context)
    assert result["counts"]["failed"] == 1
    assert len(s3.get_bucket_tagging(Bucket="full-bucket")["TagSet"]) == 48


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("kind", ["rds", "lambda", "dynamodb", "sns", "sqs", "elbv2", "iam-role",
                                  "iam-user"])
def test_every_other_service_is_tagged(kind: str, lambda_context: FakeLambdaContext) -> None:
    event, read = _create(kind)
    result = handle(event, lambda_context)
    assert result["counts"]["done"] == 1, result
    assert read() == EXPECTED


def _create(kind: str) -> tuple[dict[str, Any], Any]:
    if kind == "rds":
        rds = boto3.client("rds")
        arn = rds.create_db_instance(
            DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres",
            MasterUsername="u", MasterUserPassword="password-1", AllocatedStorage=20)[
            "DBInstance"]["DBInstanceArn"]
        return (api_call("CreateDBInstance", "rds", response={"dBInstanceArn": arn}),
                lambda: {t["Key"]: t["Value"] for t in
                         rds.list_tags_for_resource(ResourceName=arn)["TagList"]})
    if kind == "lambda":
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda")
        arn = lam.create_function(FunctionName="fn", Runtime="python3.13", Role=role,
                                  Handler="a.b", Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})[
            "FunctionArn"]
        return (api_call("CreateFunction20150331", "lambda", response={"functionArn": arn}),
                lambda: lam.list_tags(Resource=arn)["Tags"])
    if kind == "dynamodb":
        ddb = boto3.client("dynamodb")
        arn = ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                               KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "k",
                                                      "AttributeType": "S"}])[
            "TableDescription"]["TableArn"]
        return (api_call("CreateTable", "dynamodb", response={"tableDescription": {
            "tableArn": arn}}), lambda: {t["Key"]: t["Value"] for t in
                                        ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]})
    if kind == "sns":
        sns = boto3.client("sns")
        arn = sns.create_topic(Name="topic")["TopicArn"]
        return (api_call("CreateTopic", "sns", response={"topicArn": arn}),
                lambda: {t["Key"]: t["Value"] for t in
                         sns.list_tags_for_resource(ResourceArn=arn)["Tags"]})
    if kind == "sqs":
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="queue")["QueueUrl"]
        return (api_call("CreateQueue", "sqs", response={"queueUrl": url}),
                lambda: sqs.list_queue_tags(QueueUrl=url)["Tags"])
    if kind == "elbv2":
        ec2 = boto3.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                     AvailabilityZone=f"eu-west-1{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        elb = boto3.client("elbv2")
        arn = elb.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0][
            "LoadBalancerArn"]
        return (api_call("CreateLoadBalancer", "elasticloadbalancing", response={
            "loadBalancers": [{"loadBalancerArn": arn}]}),
                lambda: {t["Key"]: t["Value"] for t in elb.describe_tags(
                    ResourceArns=[arn])["TagDescriptions"][0]["Tags"]})
    iam = boto3.client("iam")
    if kind == "iam-role":
        iam.create_role(RoleName="app-role", AssumeRolePolicyDocument="{}")
        return (api_call("CreateRole", "iam", response={"role": {"roleName": "app-role"}}),
                lambda: {t["Key"]: t["Value"] for t in
                         iam.list_role_tags(RoleName="app-role")["Tags"]})
    iam.create_user(UserName="bob")
    return (api_call("CreateUser", "iam", response={"user": {"userName": "bob"}}),
            lambda: {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="bob")["Tags"]})


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("extra", "why"),
    [({"errorCode": "Client.UnauthorizedOperation"}, "the call failed"),
     ({"requestParameters": {"dryRun": True}}, "a dry-run call"),
     ({"readOnly": True}, "a read-only call"),
     ({"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/"
                        "opskit-auto-tagger/session"}}, "made by this automation's own role"),
     ({"eventName": "CreateTags"}, "CreateTags is not a supported create call")],
)
def test_skipped_calls_change_nothing(extra: dict[str, Any], why: str,
                                      lambda_context: FakeLambdaContext,
                                      api_calls: ApiCalls) -> None:
    event = api_call("CreateVolume", "ec2", response={"volumeId": "vol-0123456789abcdef0"})
    event["detail"].update(extra)
    api_calls.reset()
    result = handle(event, lambda_context)
    assert result["skipped"].startswith(why)
    assert api_calls.total == 0


@pytest.mark.usefixtures("aws")
def test_malformed_event_is_logged_and_skipped(lambda_context: FakeLambdaContext) -> None:
    event = api_call("CreateVolume", "ec2")
    del event["detail"]["eventID"]
    result = handle(event, lambda_context)
    assert result["skipped"].startswith("malformed: detail.eventID=None is invalid")


@pytest.mark.usefixtures("aws")
def test_dry_run_plans_and_writes_nothing(lambda_context: FakeLambdaContext,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    volume = boto3.client("ec2").create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    result = handle(api_call("CreateVolume", "ec2", response={"volumeId": volume}),
                    lambda_context)
    assert result["counts"]["planned"] == 1
    assert ec2_tags(volume) == {}


@pytest.mark.parametrize(
    ("identity", "arn", "principal"),
    [(ALICE, "arn:aws:iam::123456789012:user/alice", "alice"),
     ({"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/deploy/ci-42"},
      "arn:aws:sts::123456789012:assumed-role/deploy/ci-42", "ci-42"),
     ({"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/"
       "AWSReservedSSO_AdministratorAccess_0123456789abcdef/marie.dupont@example.com"},
      "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_"
      "0123456789abcdef/marie.dupont@example.com", "marie.dupont@example.com"),
     ({"type": "FederatedUser", "arn": "arn:aws:sts::123456789012:federated-user/jdoe"},
      "arn:aws:sts::123456789012:federated-user/jdoe", "jdoe"),
     ({"type": "Root", "arn": "arn:aws:iam::123456789012:root"},
      "arn:aws:iam::123456789012:root", "root"),
     ({"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"},
      "autoscaling.amazonaws.com", "autoscaling.amazonaws.com"),
     ({"type": "AssumedRole", "invokedBy": "autoscaling.amazonaws.com", "arn":
       "arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling"},
      "arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
      "autoscaling.amazonaws.com")],
)
def test_identity_types(identity: dict[str, str], arn: str, principal: str) -> None:
    creator = creator_of(identity)
    assert (creator.arn, creator.principal) == (arn, principal)


def test_report_mentions_the_creator(lambda_context: FakeLambdaContext,
                                     alert_inbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    volume = boto3.client("ec2").create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    handle(api_call("CreateVolume", "ec2", response={"volumeId": volume}), lambda_context)
    assert alert_inbox.received() == []  # routine tagging is quiet by default
    monkeypatch.setenv("REPORT_TAGGED", "true")
    other = boto3.client("ec2").create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    handle(api_call("CreateVolume", "ec2", response={"volumeId": other}), lambda_context)
    (report,) = alert_inbox.received()
    assert report["title"] == "Tagged 1 resource created by alice (CreateVolume)"
    assert report["creator"]["type"] == "IAMUser"
    assert json.loads(json.dumps(report["actions"][0]["details"]["tags"])) == EXPECTED


SKIP_SAMPLES = sorted(EVENTS.glob("auto_tagger/skip-*.json"))


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("path", SKIP_SAMPLES, ids=[p.stem for p in SKIP_SAMPLES])
def test_skip_samples_are_skipped_without_calls(path: Path, lambda_context: FakeLambdaContext,
                                                api_calls: ApiCalls) -> None:
    result = handle(load_event(f"auto_tagger/{path.name}"), lambda_context)
    assert result["skipped"]
    assert api_calls.total == 0


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("name", "principal"), [
    ("identity-assumed-role", "ci-session"), ("identity-sso-user", "marie.dupont@example.com"),
    ("identity-federated-user", "jdoe"), ("identity-root", "root")])
def test_identity_samples_tag_with_their_creator(name: str, principal: str,
                                                 lambda_context: FakeLambdaContext) -> None:
    event = load_event(f"auto_tagger/{name}.json")
    volume = boto3.client("ec2").create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    event["detail"]["responseElements"]["volumeId"] = volume
    result = handle(event, lambda_context)
    assert result["counts"]["done"] == 1
    assert ec2_tags(volume)["opskit:creator"] == principal


@pytest.mark.usefixtures("aws")
def test_service_launch_is_credited_to_the_service(lambda_context: FakeLambdaContext) -> None:
    event = load_event("auto_tagger/identity-aws-service.json")
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    event["detail"]["responseElements"]["instancesSet"]["items"] = [
        {"instanceId": instance["InstanceId"]}]
    assert handle(event, lambda_context)["counts"]["done"] == 1
    assert ec2_tags(instance["InstanceId"])["opskit:creator"] == "autoscaling.amazonaws.com"


@pytest.mark.usefixtures("aws")
def test_a_resource_that_cannot_be_read_fails_alone(lambda_context: FakeLambdaContext) -> None:
    result = handle(api_call("CreateBucket", "s3", request={"bucketName": "deleted-already"}),
                    lambda_context)
    assert result["counts"]["failed"] == 1
    assert result["failed_targets"] == []
    assert result["targets"][0]["title"] == (
        "Tagged 0 resources created by alice (CreateBucket); 1 failed")
