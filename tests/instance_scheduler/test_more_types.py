"""Redshift clusters (pause/resume) and ECS services (desired count saved and restored), end to
end on moto with a frozen clock: transitions, changes by hand, dry run, refusals, API calls."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.conftest import ApiCalls
from tests.instance_scheduler.harness import (
    MONDAY_NOON,
    NEXT_MONDAY_NOON,
    SATURDAY_NOON,
    at,
    entries,
    run,
)
from tests.instance_scheduler.seed import SCHEDULE

pytestmark = pytest.mark.usefixtures("clock", "aws")
TYPES = {"RESOURCE_TYPES": "redshift,ecs"}
SAVED = "opskit:saved-capacity"
LAST = "opskit:scheduler-last"
WEEKEND = "2026-11-28T12:00"


# ---------------------------------------------------------------- Redshift
def make_warehouse(name: str, schedule: str | None = SCHEDULE) -> None:
    tags = [{"Key": "Schedule", "Value": schedule}] if schedule else []
    boto3.client("redshift").create_cluster(
        ClusterIdentifier=name, NodeType="ra3.xlplus", MasterUsername="admin_user",
        MasterUserPassword="Not-a-secret-1", ClusterType="multi-node", NumberOfNodes=2,
        Tags=tags)


def warehouse(name: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("redshift").describe_clusters(
        ClusterIdentifier=name)["Clusters"][0]
    return found


def warehouse_tags(name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in warehouse(name).get("Tags", [])}


def test_redshift_is_paused_outside_and_resumed_inside(reports: list[dict[str, Any]]) -> None:
    make_warehouse("sales")
    make_warehouse("unscheduled", schedule=None)
    run(SATURDAY_NOON, **TYPES)
    assert warehouse("sales")["ClusterStatus"] == "paused"
    assert warehouse("unscheduled")["ClusterStatus"] == "available"
    assert warehouse_tags("sales")[LAST] == f"stopped@{WEEKEND}Z"
    assert reports[-1]["title"] == "Stopped 1 Redshift"
    run(NEXT_MONDAY_NOON, **TYPES)
    assert warehouse("sales")["ClusterStatus"] == "available"
    assert warehouse_tags("sales")[LAST] == "started@2026-11-30T12:00Z"
    assert reports[-1]["title"] == "Started 1 Redshift"


def test_redshift_not_scheduled_unless_chosen(api_calls: ApiCalls) -> None:
    make_warehouse("sales")
    make_service("web")
    api_calls.reset()
    run(SATURDAY_NOON)  # RESOURCE_TYPES unset: ec2, asg, rds
    assert api_calls.of("redshift") == 0
    assert api_calls.of("ecs") == 0
    assert warehouse("sales")["ClusterStatus"] == "available"
    assert service("web")["desiredCount"] == 3


def test_redshift_resumed_by_hand_is_left_alone(reports: list[dict[str, Any]]) -> None:
    make_warehouse("sales")
    run(SATURDAY_NOON, **TYPES)
    at(SATURDAY_NOON.replace(hour=13))
    boto3.client("redshift").resume_cluster(ClusterIdentifier="sales")
    run(SATURDAY_NOON.replace(hour=14), **TYPES)
    assert warehouse("sales")["ClusterStatus"] == "available"
    skipped = [a for a in reports[-1]["actions"] if a["status"] == "skipped"]
    assert [a["resource"] for a in skipped] == ["sales"]
    assert "started by hand" in str(skipped[0])


def test_redshift_dry_run_changes_nothing(api_calls: ApiCalls) -> None:
    make_warehouse("sales")
    api_calls.reset()
    summary = run(SATURDAY_NOON, DRY_RUN="true", **TYPES)
    assert summary["counts"]["planned"] == 1
    assert warehouse("sales")["ClusterStatus"] == "available"
    assert LAST not in warehouse_tags("sales")
    assert api_calls.of("redshift", "PauseCluster") == 0
    assert api_calls.of("redshift", "CreateTags") == 0


def test_redshift_exempt_cluster_is_not_paused() -> None:
    make_warehouse("sales")
    boto3.client("redshift").create_tags(
        ResourceName="arn:aws:redshift:eu-west-1:123456789012:cluster:sales",
        Tags=[{"Key": "opskit:exempt", "Value": "true"}])
    run(SATURDAY_NOON, **TYPES)
    assert warehouse("sales")["ClusterStatus"] == "available"


# ---------------------------------------------------------------- ECS
def make_service(name: str, desired: int = 3, schedule: str | None = SCHEDULE,
                 cluster: str = "apps") -> str:
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(family=name, containerDefinitions=[
        {"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 128}])
    tags = [{"key": "Schedule", "value": schedule}] if schedule else []
    # moto starts a service's tasks as pending unless told how many run: a steady service.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_ECS_SERVICE_RUNNING", str(desired))
        created: dict[str, Any] = ecs.create_service(
            cluster=cluster, serviceName=name, taskDefinition=name, desiredCount=desired,
            tags=tags)["service"]
    return str(created["serviceArn"])


def service(name: str, cluster: str = "apps") -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("ecs").describe_services(
        cluster=cluster, services=[name], include=["TAGS"])["services"][0]
    return found


def service_tags(name: str, cluster: str = "apps") -> dict[str, str]:
    return {t["key"]: t["value"] for t in service(name, cluster).get("tags", [])}


def test_ecs_desired_count_is_saved_zeroed_and_restored(
        reports: list[dict[str, Any]]) -> None:
    make_service("web", desired=3)
    make_service("worker", desired=2, cluster="batch")
    make_service("other", desired=1, schedule=None)
    run(SATURDAY_NOON, **TYPES)
    assert service("web")["desiredCount"] == 0
    assert service_tags("web")[SAVED] == "3"
    assert service("worker", "batch")["desiredCount"] == 0
    assert service_tags("worker", "batch")[SAVED] == "2"
    assert service("other")["desiredCount"] == 1
    assert reports[-1]["title"] == "Stopped 2 ECS service"
    assert sorted(a["resource"] for a in reports[-1]["actions"]) == ["apps/web", "batch/worker"]
    run(NEXT_MONDAY_NOON, **TYPES)
    assert service("web")["desiredCount"] == 3
    assert service("worker", "batch")["desiredCount"] == 2
    assert SAVED not in service_tags("web")
    assert service_tags("web")[LAST].startswith("started")


def test_ecs_scaled_by_hand_while_stopped_keeps_the_saved_count(
        reports: list[dict[str, Any]]) -> None:
    make_service("web", desired=3)
    run(SATURDAY_NOON, **TYPES)
    at(SATURDAY_NOON.replace(hour=13))
    boto3.client("ecs").update_service(cluster="apps", service="web", desiredCount=1)
    run(SATURDAY_NOON.replace(hour=14), **TYPES)
    assert service("web")["desiredCount"] == 1  # a person's change is left alone
    note = str(reports[-1]["actions"])
    assert "scaled by hand to a desired count of 1" in note
    assert "saved count 3 is kept" in note
    run(NEXT_MONDAY_NOON, **TYPES)
    assert service("web")["desiredCount"] == 3
    assert SAVED not in service_tags("web")


def test_ecs_stopped_service_without_a_saved_count_is_never_guessed(
        reports: list[dict[str, Any]]) -> None:
    make_service("web", desired=0)
    run(SATURDAY_NOON, **TYPES)  # found stopped at the stop: recorded
    run(NEXT_MONDAY_NOON, **TYPES)
    assert service("web")["desiredCount"] == 0
    assert ("apps/web", "start", "failed") in entries(reports[-1:])
    assert "nothing guessed" in str(reports[-1]["actions"])


def test_ecs_invalid_saved_count_is_refused(reports: list[dict[str, Any]]) -> None:
    arn = make_service("web", desired=2)
    boto3.client("ecs").tag_resource(resourceArn=arn, tags=[{"key": SAVED, "value": "lots"}])
    run(SATURDAY_NOON, **TYPES)
    assert service("web")["desiredCount"] == 2
    assert service_tags("web")[SAVED] == "lots"
    assert "is not a whole number" in str(reports[-1]["actions"])


def test_ecs_service_with_an_autoscaling_minimum_is_skipped(
        reports: list[dict[str, Any]]) -> None:
    make_service("web", desired=2)
    boto3.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/apps/web",
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=6)
    run(SATURDAY_NOON, **TYPES)
    assert service("web")["desiredCount"] == 2
    assert SAVED not in service_tags("web")
    assert ("apps/web", "stop", "skipped") in entries(reports[-1:])
    assert "keeps at least 2 task(s)" in str(reports[-1]["actions"])


def test_ecs_dry_run_changes_nothing(api_calls: ApiCalls) -> None:
    make_service("web", desired=3)
    api_calls.reset()
    summary = run(SATURDAY_NOON, DRY_RUN="true", **TYPES)
    assert summary["counts"]["planned"] == 1
    assert service("web")["desiredCount"] == 3
    assert service_tags("web") == {"Schedule": SCHEDULE}
    assert api_calls.of("ecs", "UpdateService") == 0
    assert api_calls.of("ecs", "TagResource") == 0


def test_ecs_and_redshift_api_calls_per_run(api_calls: ApiCalls) -> None:
    """Reads: one ListClusters, one ListServices per cluster, one DescribeServices per 10
    services, one DescribeScalableTargets per 50 tagged services, one DescribeClusters (the
    tag filter is server-side). Changes: per service a tag, an update and a record; per
    warehouse a pause and a record."""
    for index in range(12):
        make_service(f"web-{index}", desired=1)
    make_service("untagged", desired=1, schedule=None)
    make_warehouse("sales")
    api_calls.reset()
    run(SATURDAY_NOON, **TYPES)
    assert api_calls.of("ecs", "ListClusters") == 1
    assert api_calls.of("ecs", "ListServices") == 1
    assert api_calls.of("ecs", "DescribeServices") == 2
    assert api_calls.of("application-autoscaling", "DescribeScalableTargets") == 1
    assert api_calls.of("ecs", "UpdateService") == 12
    assert api_calls.of("ecs", "TagResource") == 24  # the saved count, then the record
    assert api_calls.of("redshift", "DescribeClusters") == 1
    assert api_calls.of("redshift", "PauseCluster") == 1
    assert api_calls.of("redshift", "CreateTags") == 1
    api_calls.reset()
    run(SATURDAY_NOON.replace(hour=13), **TYPES)  # nothing to do: reads only
    assert api_calls.of("ecs", "UpdateService") == 0
    assert api_calls.of("redshift", "PauseCluster") == 0
    assert api_calls.total == api_calls.of("ecs") + api_calls.of("redshift") + \
        api_calls.of("application-autoscaling") + api_calls.of("sns")


def test_ecs_override_stops_it_and_its_end_starts_it_again(reports: list[dict[str, Any]]) -> None:
    """Inside the schedule, an override stops the service; once it has expired the schedule
    applies again: the saved count is restored and the override tag removed."""
    arn = make_service("web", desired=2)
    boto3.client("ecs").tag_resource(resourceArn=arn, tags=[
        {"key": "ScheduleOverride", "value": "off until 2026-11-23T15:00Z"}])
    run(MONDAY_NOON, **TYPES)
    assert service("web")["desiredCount"] == 0
    run(MONDAY_NOON.replace(hour=16), **TYPES)
    assert service("web")["desiredCount"] == 2
    assert "ScheduleOverride" not in service_tags("web")
