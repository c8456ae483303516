"""Issue 21: never lose work when stopping or restarting. The scheduler acts at transitions and
leaves changes made by hand alone; Auto Scaling sizes are never overwritten or guessed;
instance-store data is never erased unasked; persistent spot instances are scheduled; a
database whose KMS key is lost is reported. On moto, the clock frozen for the whole test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from instance_scheduler.settings import SchedulerConfig
from tests.conftest import ACCOUNT, ApiCalls
from tests.instance_scheduler.harness import (
    at,
    entries,
    group_tags,
    instance_tags,
    notes,
    run,
    size,
    states,
)
from tests.instance_scheduler.seed import image_id, make_db, make_group, make_instances

pytestmark = pytest.mark.usefixtures("clock", "aws")

SCHEDULE = "mon-fri 08:00-19:00 UTC"
FRIDAY_EVENING = datetime(2026, 11, 27, 19, 5, tzinfo=UTC)
SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SATURDAY_AFTERNOON = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)
MONDAY_MORNING = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)
MONDAY_MIDDAY = datetime(2026, 11, 30, 10, 5, tzinfo=UTC)
MONDAY_EVENING = datetime(2026, 11, 30, 19, 5, tzinfo=UTC)


def entry(report: dict[str, Any], resource: str) -> dict[str, Any]:
    (found,) = [a for a in report["actions"] if a["resource"] == resource]
    return found


# ---------------------------------------------------------------- changes made by hand
def test_an_instance_started_by_hand_outside_its_schedule_is_left_alone(
        reports: list[dict[str, Any]]) -> None:
    (instance,) = make_instances(1, SCHEDULE)
    run(SATURDAY_NOON)
    assert states([instance]) == {"stopped"}
    at(datetime(2026, 11, 28, 13, 0, tzinfo=UTC))
    boto3.client("ec2").start_instances(InstanceIds=[instance])  # someone needs it
    run(SATURDAY_AFTERNOON)
    assert states([instance]) == {"running"}
    skipped = entry(reports[-1], instance)
    assert (skipped["action"], skipped["status"]) == ("stop", "skipped")
    assert skipped["details"]["note"].startswith(
        "started by hand since opskit's last action (stopped@2026-11-28T12:00Z): left alone "
        "until the schedule's next change at 2026-11-30T08:00Z")
    run(datetime(2026, 11, 29, 23, 0, tzinfo=UTC))  # still the weekend: still left alone
    assert states([instance]) == {"running"}
    run(MONDAY_MORNING)  # the transition to running: already running, recorded as started
    # by hand before its period (what `retain-running` would spare at 19:00)
    assert instance_tags(instance)["opskit:scheduler-last"] == (
        "found-started-early@2026-11-30T08:05Z")
    assert reports[-1]["title"] == "Recorded the state of 1 EC2"
    run(MONDAY_EVENING)  # the next transition applies again
    assert states([instance]) == {"stopped"}


def test_an_instance_stopped_by_hand_during_its_period_stays_stopped(
        reports: list[dict[str, Any]]) -> None:
    (instance,) = make_instances(1, SCHEDULE)
    run(MONDAY_MORNING)  # never acted on, already running: recorded, not changed
    assert entries(reports) == [(instance, "record-running", "done")]
    at(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    boto3.client("ec2").stop_instances(InstanceIds=[instance])  # someone stops it for the day
    run(MONDAY_MIDDAY)
    assert states([instance]) == {"stopped"}
    assert entry(reports[-1], instance)["details"]["note"].startswith(
        "stopped by hand since opskit's last action (found-running@2026-11-30T08:05Z)")
    run(datetime(2026, 12, 1, 8, 5, tzinfo=UTC))  # Tuesday's start applies
    assert states([instance]) == {"running"}


def test_a_missed_transition_is_still_applied() -> None:
    (instance,) = make_instances(1, SCHEDULE)
    run(FRIDAY_EVENING)
    assert states([instance]) == {"stopped"}
    # No run on Monday from 08:00 to 11:00 (an outage): the first one after starts it.
    run(datetime(2026, 11, 30, 11, 0, tzinfo=UTC))
    assert states([instance]) == {"running"}
    assert instance_tags(instance)["opskit:scheduler-last"] == "started@2026-11-30T11:00Z"


@pytest.mark.parametrize(("schedule", "env"), [
    (f"enforced {SCHEDULE}", {}),  # the schedule says so
    (SCHEDULE, {"ENFORCE_SCHEDULES": "true"}),  # the stack's default
])
def test_an_enforced_schedule_sets_back_a_change_by_hand(schedule: str,
                                                        env: dict[str, str]) -> None:
    (instance,) = make_instances(1, schedule)
    run(SATURDAY_NOON, **env)
    at(datetime(2026, 11, 28, 13, 0, tzinfo=UTC))
    boto3.client("ec2").start_instances(InstanceIds=[instance])
    run(SATURDAY_AFTERNOON, **env)
    assert states([instance]) == {"stopped"}


def test_a_database_restarted_by_aws_after_seven_days_is_stopped_again(
        reports: list[dict[str, Any]]) -> None:
    """Stopped on Friday evening for ten days (a week of holidays); AWS starts it seven days
    later. No transition has happened since opskit stopped it: stopped again."""
    week = "+".join(f"2026-12-0{day}" for day in range(1, 5))
    make_db("reporting", f"{SCHEDULE} holidays:2026-11-30+{week}")
    rds = boto3.client("rds")

    def status() -> str:
        return str(rds.describe_db_instances(DBInstanceIdentifier="reporting")["DBInstances"][0][
            "DBInstanceStatus"])

    run(FRIDAY_EVENING)
    assert status() == "stopped"
    at(datetime(2026, 12, 4, 19, 6, tzinfo=UTC))
    rds.start_db_instance(DBInstanceIdentifier="reporting")  # AWS, after 7 days stopped
    run(datetime(2026, 12, 4, 19, 10, tzinfo=UTC))
    assert status() == "stopped"
    stop = entry(reports[-1], "reporting")
    assert (stop["action"], stop["status"]) == ("stop", "done")
    assert stop["details"]["restarted_by_aws"].startswith(
        "opskit left it stopped at 2026-11-27T19:05Z and the schedule has not changed since")
    tags = {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(
        ResourceName=f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:reporting")["TagList"]}
    assert tags["opskit:scheduler-last"] == "stopped@2026-12-04T19:10Z"


def test_a_database_started_by_hand_within_seven_days_is_left_alone(
        reports: list[dict[str, Any]]) -> None:
    make_db("reporting", SCHEDULE)
    rds = boto3.client("rds")
    run(FRIDAY_EVENING)
    at(SATURDAY_NOON)
    rds.start_db_instance(DBInstanceIdentifier="reporting")
    run(SATURDAY_AFTERNOON)
    assert rds.describe_db_instances(DBInstanceIdentifier="reporting")["DBInstances"][0][
        "DBInstanceStatus"] == "available"
    assert entry(reports[-1], "reporting")["status"] == "skipped"


# ---------------------------------------------------------------- Auto Scaling sizes
@pytest.mark.parametrize(("env", "at_night"), [
    ({}, (1, 1, 1)),  # a change by hand: left alone
    ({"ENFORCE_SCHEDULES": "true"}, (0, 0, 0)),  # enforced: stopped again, saved size kept
])
def test_a_group_resized_while_stopped_comes_back_at_its_saved_size(
        env: dict[str, str], at_night: tuple[int, int, int],
        reports: list[dict[str, Any]]) -> None:
    make_group("web", SCHEDULE, capacity=(3, 12, 6))
    run(FRIDAY_EVENING, **env)
    assert size("web") == (0, 0, 0)
    assert group_tags("web")["opskit:saved-capacity"] == "3/12/6"
    at(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    boto3.client("autoscaling").update_auto_scaling_group(  # maintenance
        AutoScalingGroupName="web", MinSize=1, MaxSize=1, DesiredCapacity=1)
    run(SATURDAY_NOON, **env)
    assert size("web") == at_night
    assert group_tags("web")["opskit:saved-capacity"] == "3/12/6"  # never overwritten
    if not env:
        assert notes(reports[-1])["web"].startswith(
            "resized by hand to 1/1/1 since opskit's last action (stopped@2026-11-27T19:05Z)")
        assert "the saved size 3/12/6 is kept for the next start" in notes(reports[-1])["web"]
    run(MONDAY_MORNING, **env)
    assert size("web") == (3, 12, 6)
    assert "opskit:saved-capacity" not in group_tags("web")


def test_a_group_whose_saved_size_disappeared_is_reported_critical(
        reports: list[dict[str, Any]]) -> None:
    make_group("web", SCHEDULE, capacity=(3, 12, 6))
    run(FRIDAY_EVENING)
    at(SATURDAY_NOON)
    boto3.client("autoscaling").delete_tags(Tags=[{
        "ResourceId": "web", "ResourceType": "auto-scaling-group",
        "Key": "opskit:saved-capacity"}])
    run(MONDAY_MORNING)
    assert size("web") == (0, 0, 0)  # nothing guessed
    failure = entry(reports[-1], "web")
    assert (failure["action"], failure["status"]) == ("start", "failed")
    assert failure["details"]["note"] == (
        "the group is at 0/0/0 and its saved size (opskit:saved-capacity) is missing: nothing "
        "guessed; set its min/max/desired by hand")
    assert reports[-1]["severity"] == "critical"


def test_the_suspend_mode_stops_a_groups_instances_and_starts_them_again(
        api_calls: ApiCalls) -> None:
    make_group("web", SCHEDULE, capacity=(2, 2, 2))
    autoscaling = boto3.client("autoscaling")
    # Someone keeps AZRebalance suspended for their own reasons: it stays so.
    autoscaling.suspend_processes(AutoScalingGroupName="web", ScalingProcesses=["AZRebalance"])
    members = [i["InstanceId"] for i in
               autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"]]

    def suspended() -> set[str]:
        return {p["ProcessName"] for p in autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]["SuspendedProcesses"]}

    api_calls.reset()
    run(FRIDAY_EVENING, ASG_STOP_MODE="suspend")
    assert size("web") == (2, 2, 2)  # the size is kept: nothing is terminated
    assert states(members) == {"stopped"}
    assert suspended() == {"AZRebalance", "HealthCheck", "Launch", "ReplaceUnhealthy",
                           "Terminate"}
    assert group_tags("web")["opskit:suspended-processes"] == (
        "HealthCheck+Launch+ReplaceUnhealthy+Terminate")
    assert api_calls.of("ec2", "DescribeInstanceTypes") == 1
    run(MONDAY_MORNING, ASG_STOP_MODE="suspend")
    assert states(members) == {"running"}
    assert suspended() == {"AZRebalance"}
    assert "opskit:suspended-processes" not in group_tags("web")
    assert group_tags("web")["opskit:scheduler-last"] == "started@2026-11-30T08:05Z"


# ---------------------------------------------------------------- instance store
def test_instance_store_is_never_erased_unless_the_instance_opts_in(
        reports: list[dict[str, Any]], api_calls: ApiCalls) -> None:
    ec2 = boto3.client("ec2")

    def launch(instance_type: str, **tags: str) -> str:
        return str(ec2.run_instances(
            ImageId=image_id(), MinCount=1, MaxCount=1, InstanceType=instance_type,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": k, "Value": v} for k, v in {"Schedule": SCHEDULE, **tags}.items()]}],
        )["Instances"][0]["InstanceId"])

    nvme = launch("m5d.large")  # an EBS root and local NVMe disks
    i4i = launch("i4i.large")
    accepted = launch("c6gd.medium", **{"opskit:stop-erases-instance-store": "true"})
    plain = launch("t3.micro")
    api_calls.reset()
    run(SATURDAY_NOON)
    assert states([nvme, i4i]) == {"running"}
    assert states([accepted, plain]) == {"stopped"}
    said = notes(reports[-1])
    assert said[nvme] == ("instance type m5d.large has instance-store volumes, which a stop "
                          "erases (tag opskit:stop-erases-instance-store=true to allow)")
    assert said[i4i].startswith("instance type i4i.large has instance-store volumes")
    assert api_calls.of("ec2", "DescribeInstanceTypes") == 1  # every type in one call


def test_a_group_with_instance_store_members_is_not_suspended(
        reports: list[dict[str, Any]]) -> None:
    autoscaling = boto3.client("autoscaling")
    autoscaling.create_launch_configuration(LaunchConfigurationName="nvme-lc",
                                            ImageId=image_id(), InstanceType="m5d.large")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="cache", LaunchConfigurationName="nvme-lc", MinSize=1, MaxSize=1,
        DesiredCapacity=1, AvailabilityZones=["eu-west-1a"],
        Tags=[{"Key": "Schedule", "Value": SCHEDULE, "PropagateAtLaunch": False}])
    run(SATURDAY_NOON, ASG_STOP_MODE="suspend")
    skipped = entry(reports[-1], "cache")
    assert skipped["status"] == "skipped"
    assert "has instance-store volumes, which a stop erases" in skipped["details"]["note"]
    groups = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    assert groups[0]["SuspendedProcesses"] == []


# ---------------------------------------------------------------- spot instances
def test_persistent_spot_instances_are_scheduled_and_one_time_ones_skipped(
        reports: list[dict[str, Any]], api_calls: ApiCalls) -> None:
    ec2 = boto3.client("ec2")

    def spot(kind: str) -> str:
        request = ec2.request_spot_instances(
            Type=kind, InstanceInterruptionBehavior="stop" if kind == "persistent" else
            "terminate", LaunchSpecification={"ImageId": image_id(),
                                              "InstanceType": "t3.micro"})
        instance = str(request["SpotInstanceRequests"][0]["InstanceId"])
        ec2.create_tags(Resources=[instance], Tags=[{"Key": "Schedule", "Value": SCHEDULE}])
        return instance

    persistent, one_time = spot("persistent"), spot("one-time")
    api_calls.reset()
    run(SATURDAY_NOON)
    assert states([persistent]) == {"stopped"}
    assert states([one_time]) == {"running"}
    assert notes(reports[-1])[one_time] == (
        "one-time spot instance: EC2 stops only the instances of a persistent spot request")
    assert api_calls.of("ec2", "DescribeSpotInstanceRequests") == 1
    run(MONDAY_MORNING)
    assert states([persistent]) == {"running"}


# ---------------------------------------------------------------- databases that need a person
def test_a_database_whose_kms_key_is_lost_is_reported_critical(
        reports: list[dict[str, Any]]) -> None:
    from moto.rds.models import rds_backends

    make_db("orders", SCHEDULE)
    make_db("billing", SCHEDULE)
    databases = rds_backends[ACCOUNT]["eu-west-1"].databases
    databases["orders"].status = "inaccessible-encryption-credentials"
    databases["billing"].status = "incompatible-parameters"
    run(MONDAY_MIDDAY)  # inside the schedule: nothing to change, still reported
    lost, incompatible = entry(reports[-1], "orders"), entry(reports[-1], "billing")
    assert (lost["action"], lost["status"]) == ("check-state", "failed")
    assert lost["details"]["state"] == "inaccessible-encryption-credentials"
    assert lost["details"]["note"].startswith("RDS cannot use or recover the database's KMS key")
    assert incompatible["status"] == "failed"
    assert incompatible["details"]["note"].startswith(
        "the database is incompatible-parameters: it can be neither started nor stopped")
    assert reports[-1]["severity"] == "critical"


# ---------------------------------------------------------------- the role's tag keys
def test_the_role_may_write_exactly_the_tags_the_scheduler_writes() -> None:
    """OnlyTheSchedulerTags lists aws:TagKeys by hand: it must be what the code writes (with
    the default keys), no more, no less (tests/conftest.py refuses any other key at call time)."""
    from tools.catalog import catalog
    from tools.member_role import load

    function = catalog(load)["Resources"]["InstanceSchedulerFunction"]
    (statement,) = [s for s in function["Properties"]["Policies"][0]["Statement"]
                    if s.get("Sid") == "OnlyTheSchedulerTags"]
    keys = statement["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"]
    assert set(keys) == SchedulerConfig.from_env({}).written_tag_keys()
    variables = function["Properties"]["Environment"]["Variables"]
    assert {"OVERRIDE_TAG_KEY", "LAST_ACTION_TAG_KEY", "SAVED_CAPACITY_TAG_KEY",
            "SUSPENDED_PROCESSES_TAG_KEY"} & set(variables) <= {"OVERRIDE_TAG_KEY"}
    assert variables["OVERRIDE_TAG_KEY"] in keys
    assert variables["ENFORCE_SCHEDULES"] == {"Ref": "SchedulerEnforce"}
    assert variables["ASG_STOP_MODE"] == {"Ref": "SchedulerAsgStopMode"}


def test_a_run_that_only_records_publishes_nothing(api_calls: ApiCalls) -> None:
    """Resources found already right at a transition are routine: tagged, logged, not sent."""
    topic = boto3.client("sns").create_topic(Name="alerts")["TopicArn"]
    make_instances(2, SCHEDULE)
    api_calls.reset()
    summary = run(MONDAY_MORNING, ALERT_TOPIC_ARN=topic)
    assert summary["targets"][0]["title"] == "Recorded the state of 2 EC2"
    assert api_calls.of("ec2", "CreateTags") == 1  # both in one call
    assert api_calls.of("sns", "Publish") == 0
    api_calls.reset()
    run(MONDAY_MIDDAY, ALERT_TOPIC_ARN=topic)  # nothing to do: no call but the reads
    assert api_calls.of("ec2", "CreateTags") == 0
