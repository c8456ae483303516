"""The scheduler end to end on moto, with a frozen clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from instance_scheduler import app
from instance_scheduler.settings import SchedulerConfig
from opskit.aws import SessionFactory
from tests.conftest import ACCOUNT, ApiCalls, FakeLambdaContext, load_event
from tests.instance_scheduler.harness import (
    MONDAY_NOON,
    NEXT_MONDAY_NOON,
    SATURDAY_NOON,
    at,
    run,
    states,
)
from tests.instance_scheduler.seed import (
    make_cluster,
    make_db,
    make_encrypted_instance,
    make_group,
    make_instances,
)

OTHER = "222222222222"
BROKEN = "333333333333"
pytestmark = pytest.mark.usefixtures("clock")


# ---------------------------------------------------------------- EC2
@pytest.mark.usefixtures("aws")
def test_stops_outside_and_starts_inside_the_schedule(reports: list[dict[str, Any]]) -> None:
    ids = make_instances(3)
    summary = run(SATURDAY_NOON)
    assert states(ids) == {"stopped"}
    assert summary["counts"] == {"done": 3, "planned": 0, "skipped": 0, "failed": 0}
    assert reports[-1]["title"] == "Stopped 3 EC2"
    assert reports[-1]["by_resource_type"] == {"ec2:instance": {"stop": 3}}
    run(NEXT_MONDAY_NOON)
    assert states(ids) == {"running"}
    assert reports[-1]["title"] == "Started 3 EC2"


@pytest.mark.usefixtures("aws")
def test_second_run_is_a_no_op(api_calls: ApiCalls) -> None:
    make_instances(2)
    run(SATURDAY_NOON)
    api_calls.reset()
    summary = run(SATURDAY_NOON)
    assert summary["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert api_calls.of("ec2", "StopInstances") == 0


@pytest.mark.usefixtures("aws")
def test_dry_run_plans_and_changes_nothing(api_calls: ApiCalls) -> None:
    ids = make_instances(3)
    make_group("web")
    make_db("db1")
    api_calls.reset()
    summary = run(SATURDAY_NOON, DRY_RUN="true")
    assert states(ids) == {"running"}
    assert summary["counts"]["planned"] == 5
    assert summary["counts"]["done"] == 0
    mutating = {op for (_, op) in api_calls.counts
                if op.startswith(("Stop", "Start", "Update", "Create", "Delete", "Remove"))}
    assert mutating == set()
    group = boto3.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 2


@pytest.mark.usefixtures("aws")
def test_batches_fifty_ids_per_call(api_calls: ApiCalls) -> None:
    ids = make_instances(120)
    api_calls.reset()
    run(SATURDAY_NOON)
    assert api_calls.of("ec2", "StopInstances") == 3  # ceil(120 / 50)
    assert api_calls.of("ec2", "CreateTags") == 3  # what was done, recorded on each batch
    assert api_calls.of("ec2", "DescribeInstances") == 1
    assert api_calls.of("ec2", "DescribeInstanceTypes") == 1  # one type, looked up once
    assert api_calls.of("ec2") == 8
    assert states(ids) == {"stopped"}


@pytest.mark.usefixtures("aws")
def test_failing_batch_is_bisected(monkeypatch: pytest.MonkeyPatch,
                                   reports: list[dict[str, Any]]) -> None:
    ids = make_instances(8)
    bad = ids[5]
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    stop_calls: list[int] = []

    def flaky(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "StopInstances":
            stop_calls.append(len(params["InstanceIds"]))
        if operation == "StopInstances" and bad in params["InstanceIds"]:
            raise ClientError({"Error": {"Code": "UnsupportedOperation",
                                         "Message": "cannot stop"}}, operation)
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", flaky)
    summary = run(SATURDAY_NOON)
    # 8 fails -> 4 ok, 4 fails -> 2 (ids 4-5) fails -> 1 ok, 1 fails; then 2 (ids 6-7) ok
    assert stop_calls == [8, 4, 4, 2, 1, 1, 2]
    assert summary["counts"] == {"done": 7, "planned": 0, "skipped": 0, "failed": 1}
    assert states([i for i in ids if i != bad]) == {"stopped"}
    assert states([bad]) == {"running"}
    failed = [a for a in reports[-1]["actions"] if a["status"] == "failed"]
    assert failed[0]["resource"] == bad
    assert failed[0]["details"]["note"].startswith("UnsupportedOperation")


@pytest.mark.usefixtures("aws")
def test_unsupported_instances_are_skipped_with_a_reason(reports: list[dict[str, Any]]) -> None:
    member = make_instances(1, tags={"aws:autoscaling:groupName": "web"})
    exempt = make_instances(1, tags={"opskit:exempt": "true"})
    run(SATURDAY_NOON)
    assert states(member + exempt) == {"running"}
    notes = {a["resource"]: a["details"]["note"] for a in reports[-1]["actions"]}
    assert notes[member[0]] == "member of Auto Scaling group web: schedule the group"
    assert notes[exempt[0]] == "exempt: tagged opskit:exempt"


@pytest.mark.usefixtures("aws")
def test_invalid_tag_is_reported_and_the_run_goes_on(reports: list[dict[str, Any]]) -> None:
    good = make_instances(1)
    bad = make_instances(1, "mon-fri 8h-19h")
    summary = run(SATURDAY_NOON)
    assert states(good) == {"stopped"}
    assert states(bad) == {"running"}
    assert summary["counts"]["failed"] == 1
    (failure,) = [a for a in reports[-1]["actions"] if a["status"] == "failed"]
    assert failure["resource"] == bad[0]
    assert failure["reason"].startswith("invalid Schedule tag 'mon-fri 8h-19h': unknown word")
    assert reports[-1]["severity"] == "warning"


@pytest.mark.usefixtures("aws")
def test_encrypted_volume_with_disabled_key_is_not_started(reports: list[dict[str, Any]],
                                                           api_calls: ApiCalls) -> None:
    instance, key = make_encrypted_instance()
    fine = make_instances(1)
    boto3.client("ec2").stop_instances(InstanceIds=fine)
    boto3.client("kms").disable_key(KeyId=key)
    api_calls.reset()
    run(MONDAY_NOON)
    assert states([instance]) == {"stopped"}
    assert states(fine) == {"running"}
    (failure,) = [a for a in reports[-1]["actions"] if a["status"] == "failed"]
    assert failure["resource"] == instance
    assert f"KMS key {key} is Disabled" in failure["details"]["note"]
    assert api_calls.of("ec2", "DescribeVolumes") == 1
    assert api_calls.of("kms", "DescribeKey") == 1


@pytest.mark.usefixtures("aws")
def test_hibernate_when_configured() -> None:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                      HibernationOptions={
        "Configured": True}, TagSpecifications=[{"ResourceType": "instance", "Tags": [
            {"Key": "Schedule", "Value": "mon-fri 08:00-19:00"}]}])
    summary = run(SATURDAY_NOON, HIBERNATE="true")
    assert summary["targets"][0]["title"] == "Would hibernate 1 EC2".replace("Would hibernate",
                                                                                 "Hibernated")


@pytest.mark.usefixtures("aws")
def test_an_instance_ec2_refuses_to_hibernate_is_stopped_instead(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.handlers
    from botocore.awsrequest import AWSResponse

    from opskit import aws

    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instances = ec2.run_instances(
        ImageId=image, MinCount=2, MaxCount=2, InstanceType="t3.micro",
        HibernationOptions={"Configured": True}, TagSpecifications=[{
            "ResourceType": "instance", "Tags": [
                {"Key": "Schedule", "Value": "mon-fri 08:00-19:00"}]}])["Instances"]
    asked: list[bool] = []

    def refuse(params: dict[str, Any], **_: Any) -> Any:
        hibernate = params["body"].get("Hibernate") == "true"  # the serialized query request
        asked.append(hibernate)
        if hibernate:
            refused = {"Error": {"Code": "UnsupportedHibernationConfiguration",
                                 "Message": "not configured"},
                       "ResponseMetadata": {"HTTPStatusCode": 400}}
            return AWSResponse("https://ec2", 400, {}, None), refused
        return None

    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS",
                        [*botocore.handlers.BUILTIN_HANDLERS,
                         ("before-call.ec2.StopInstances", refuse)])
    aws.forget()  # clients made from now on run the hook
    summary = run(SATURDAY_NOON, HIBERNATE="true")
    # The batch refused whole, split by the executor; each instance refused, then stopped.
    assert asked == [True, True, False, True, False]
    assert summary["counts"]["failed"] == 0
    assert summary["targets"][0]["title"].startswith("Hibernated 2 EC2")
    assert states([i["InstanceId"] for i in instances]) == {"stopped"}


# ---------------------------------------------------------------- overrides
@pytest.mark.usefixtures("aws")
def test_override_keeps_running_until_it_expires_then_is_removed(
        reports: list[dict[str, Any]]) -> None:
    ids = make_instances(1, tags={"ScheduleOverride": "on until 2026-11-28T18:00Z"})
    run(SATURDAY_NOON)
    assert states(ids) == {"running"}
    later = datetime(2026, 11, 28, 18, 5, tzinfo=UTC)
    run(later)
    assert states(ids) == {"stopped"}
    done = {(a["action"], a["status"]) for a in reports[-1]["actions"]}
    assert done == {("remove-override", "done"), ("stop", "done")}
    tags = boto3.client("ec2").describe_tags(
        Filters=[{"Name": "resource-id", "Values": ids}])["Tags"]
    assert "ScheduleOverride" not in {t["Key"] for t in tags}


@pytest.mark.usefixtures("aws")
def test_override_off_stops_inside_schedule_and_bad_override_is_reported(
        reports: list[dict[str, Any]]) -> None:
    off = make_instances(1, tags={"ScheduleOverride": "off until 2026-11-23T18:00Z"})
    bad = make_instances(1, tags={"ScheduleOverride": "on until friday"})
    run(MONDAY_NOON)
    assert states(off) == {"stopped"}
    assert states(bad) == {"running"}
    failure = next(a for a in reports[-1]["actions"] if a["status"] == "failed")
    assert failure["resource"] == bad[0]
    assert "'friday' is not an ISO 8601 time" in failure["reason"]


@pytest.mark.usefixtures("aws")
def test_named_schedule_with_holidays() -> None:
    ids = make_instances(1, "office-hours")
    schedules = json.dumps({"office-hours": {"schedule": "mon-fri 08:00-19:00",
                                             "holidays": ["2026-11-23"]}})
    run(MONDAY_NOON, SCHEDULES=schedules)
    assert states(ids) == {"stopped"}  # a holiday: stays stopped all day


# ---------------------------------------------------------------- Auto Scaling groups
@pytest.mark.usefixtures("aws")
def test_group_capacity_is_saved_and_restored_exactly() -> None:
    make_group("web", capacity=(1, 4, 2))
    autoscaling = boto3.client("autoscaling")

    def group() -> dict[str, Any]:
        return autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]

    run(SATURDAY_NOON)
    stopped = group()
    assert (stopped["MinSize"], stopped["MaxSize"], stopped["DesiredCapacity"]) == (0, 0, 0)
    assert {t["Key"]: t["Value"] for t in stopped["Tags"]}["opskit:saved-capacity"] == "1/4/2"
    run(SATURDAY_NOON)  # idempotent: the saved capacity is not overwritten with 0/0/0
    assert {t["Key"]: t["Value"] for t in group()["Tags"]}["opskit:saved-capacity"] == "1/4/2"
    run(NEXT_MONDAY_NOON)
    started = group()
    assert (started["MinSize"], started["MaxSize"], started["DesiredCapacity"]) == (1, 4, 2)
    assert "opskit:saved-capacity" not in {t["Key"] for t in started["Tags"]}


@pytest.mark.usefixtures("aws")
def test_group_with_unreadable_saved_capacity_is_not_started(
        reports: list[dict[str, Any]]) -> None:
    make_group("web", capacity=(0, 0, 0))
    boto3.client("autoscaling").create_or_update_tags(Tags=[{
        "ResourceId": "web", "ResourceType": "auto-scaling-group",
        "Key": "opskit:saved-capacity", "Value": "lots", "PropagateAtLaunch": False}])
    run(MONDAY_NOON)
    (entry,) = reports[-1]["actions"]
    assert (entry["action"], entry["status"]) == ("start", "failed")
    assert "saved size (opskit:saved-capacity) is 'lots', not min/max/desired" in entry[
        "details"]["note"]
    assert reports[-1]["severity"] == "critical"


# ---------------------------------------------------------------- RDS and Aurora
@pytest.mark.usefixtures("aws")
def test_rds_instance_and_aurora_cluster(reports: list[dict[str, Any]]) -> None:
    make_db("reporting")
    make_cluster("orders", members=2)
    rds = boto3.client("rds")
    run(SATURDAY_NOON)
    assert rds.describe_db_instances(DBInstanceIdentifier="reporting")["DBInstances"][0][
        "DBInstanceStatus"] == "stopped"
    assert rds.describe_db_clusters(DBClusterIdentifier="orders")["DBClusters"][0][
        "Status"] == "stopped"
    by_resource = {a["resource"]: a for a in reports[-1]["actions"]}
    assert by_resource["reporting"]["status"] == "done"
    assert by_resource["orders"]["status"] == "done"
    # cluster members are handled at cluster level, never on their own
    assert by_resource["orders-0"]["status"] == "skipped"
    assert by_resource["orders-0"]["details"]["note"] == (
        "member of cluster orders: schedule the cluster")
    run(NEXT_MONDAY_NOON)
    assert rds.describe_db_instances(DBInstanceIdentifier="reporting")["DBInstances"][0][
        "DBInstanceStatus"] == "available"


@pytest.mark.usefixtures("aws")
def test_a_neptune_cluster_is_scheduled_through_the_rds_api(api_calls: ApiCalls) -> None:
    """RDS's DescribeDBClusters also returns Neptune (and DocumentDB) clusters, and
    StopDBCluster / StartDBCluster serve them, as Aurora's: no other call, no other permission.
    (moto cannot create a DocumentDB cluster; the docs say what is tested.)"""
    rds = boto3.client("rds")
    boto3.client("neptune").create_db_cluster(  # through Neptune's own API, as its users do
        DBClusterIdentifier="graph", Engine="neptune",
        Tags=[{"Key": "Schedule", "Value": "mon-fri 08:00-19:00"}])
    run(SATURDAY_NOON)
    assert rds.describe_db_clusters(DBClusterIdentifier="graph")["DBClusters"][0][
        "Status"] == "stopped"
    assert api_calls.of("rds", "StopDBCluster") == 1
    run(NEXT_MONDAY_NOON)
    assert rds.describe_db_clusters(DBClusterIdentifier="graph")["DBClusters"][0][
        "Status"] == "available"


@pytest.mark.usefixtures("aws")
def test_read_replica_is_skipped(reports: list[dict[str, Any]]) -> None:
    make_db("primary", schedule=None)
    boto3.client("rds").create_db_instance_read_replica(
        DBInstanceIdentifier="replica", SourceDBInstanceIdentifier="primary",
        Tags=[{"Key": "Schedule", "Value": "mon-fri 08:00-19:00"}])
    run(SATURDAY_NOON)
    (entry,) = reports[-1]["actions"]
    assert (entry["resource"], entry["status"]) == ("replica", "skipped")
    assert entry["details"]["note"] == "read replicas cannot be stopped"


@pytest.mark.usefixtures("aws")
def test_rds_auto_start_after_seven_days_is_noted(monkeypatch: pytest.MonkeyPatch,
                                                  reports: list[dict[str, Any]]) -> None:
    make_db("reporting")
    from instance_scheduler import scheduler

    monkeypatch.setattr(scheduler, "rds_auto_started",
                        lambda rds, source: {"reporting"} if source == "db-instance" else set())
    run(SATURDAY_NOON)
    (entry,) = reports[-1]["actions"]
    assert entry["action"] == "stop"
    assert "RDS-EVENT-0154" in entry["details"]["auto_started"]


# ---------------------------------------------------------------- accounts and the handler
@pytest.mark.usefixtures("aws")
def test_one_account_failing_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch,
                                                       api_calls: ApiCalls) -> None:
    home = make_instances(2)
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{OTHER}:role/OpskitExecutionRole",
        RoleSessionName="seed")["Credentials"]
    member = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"], region_name="eu-west-1")
    theirs = make_instances(3, session=member)
    original = SessionFactory._assumed

    def assume(self: SessionFactory, account_id: str) -> Any:
        if account_id == BROKEN:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no role"}},
                              "AssumeRole")
        return original(self, account_id)

    monkeypatch.setattr(SessionFactory, "_assumed", assume)
    api_calls.reset()
    summary = run(SATURDAY_NOON, TARGET_ACCOUNTS=f"{BROKEN},{ACCOUNT},{OTHER}")
    assert states(home) == {"stopped"}
    member_states = {i["State"]["Name"] for r in member.client("ec2").describe_instances(
        InstanceIds=theirs)["Reservations"] for i in r["Instances"]}
    assert member_states == {"stopped"}
    assert summary["counts"]["done"] == 5
    assert [(t["account"], t["counts"]["done"]) for t in summary["targets"]] == [
        (ACCOUNT, 2), (OTHER, 3)]
    assert [(f["account"], f["error"].split(" ")[0]) for f in summary["failed_targets"]] == [
        (BROKEN, "ClientError:")]


@pytest.mark.usefixtures("aws")
def test_handler_runs_the_sample_event(lambda_context: FakeLambdaContext,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ids = make_instances(2)
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
    at(SATURDAY_NOON)
    result = app.lambda_handler(load_event("instance_scheduler/scheduler-run.json"),
                                lambda_context)
    assert result["counts"]["done"] == 2
    assert result["targets"][0]["title"] == "Stopped 2 EC2"
    assert states(ids) == {"stopped"}


@pytest.mark.usefixtures("aws")
def test_handler_refuses_a_malformed_event(lambda_context: FakeLambdaContext,
                                           api_calls: ApiCalls) -> None:
    make_instances(1)
    api_calls.reset()
    with pytest.raises(ValueError, match=r"time=None is invalid"):
        app.lambda_handler(load_event("instance_scheduler/invalid-missing-time.json"),
                           lambda_context)
    assert api_calls.total == 0


def test_bad_configuration_names_the_variable() -> None:
    with pytest.raises(ValueError, match=r"RESOURCE_TYPES='ec2,lambda' is invalid"):
        SchedulerConfig.from_env({"RESOURCE_TYPES": "ec2,lambda"})
    with pytest.raises(ValueError, match=r"DEFAULT_TIMEZONE='Moon/Base' is invalid"):
        SchedulerConfig.from_env({"DEFAULT_TIMEZONE": "Moon/Base"})
    with pytest.raises(ValueError, match=r"SCHEDULES=.* 'x': days 'mon-fri' have no time range"):
        SchedulerConfig.from_env({"SCHEDULES": '{"x": "mon-fri"}'})


@pytest.mark.usefixtures("aws")
def test_unreadable_key_does_not_block_a_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.client import BaseClient

    instance, _ = make_encrypted_instance()
    original = BaseClient._make_api_call

    def denied(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "DescribeKey":
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                              operation)
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", denied)
    summary = run(MONDAY_NOON)
    assert summary["counts"] == {"done": 1, "planned": 0, "skipped": 0, "failed": 0}
    assert states([instance]) == {"running"}
