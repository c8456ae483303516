"""Self-healing on moto: each action, and every guard rail with its reported refusal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from self_healing import app
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event
from tests.self_healing.seed import (
    WEB,
    WORKER,
    alarm,
    instance,
    quiet_history,
    service,
    worker_group,
)


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> Iterator[None]:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    with quiet_history(1):
        yield


def handle(name: str, context: FakeLambdaContext, **changes: Any) -> dict[str, Any]:
    event = load_event(f"self_healing/{name}.json")
    event.update(changes)
    result: dict[str, Any] = app.lambda_handler(event, context)
    return result


def healed_at(instance_id: str) -> str | None:
    tags = boto3.client("ec2").describe_tags(
        Filters=[{"Name": "resource-id", "Values": [instance_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in tags}.get("opskit:healed-at")


def test_a_cpu_alarm_reboots_the_instance_and_stamps_it(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    instance()
    alarm("web-1-cpu-high")
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context)
    assert api_calls.of("ec2", "RebootInstances") == 1
    assert healed_at(WEB) == "2026-11-23T10:42:18+00:00"
    (report,) = alert_inbox.received()
    assert report["title"] == f"Did reboot {WEB} (web-1-cpu-high)"
    assert report["alarm_link"] == ("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?"
                                    "region=eu-west-1#alarmsV2:alarm/web-1-cpu-high")


def test_a_failed_system_check_moves_the_instance_with_stop_and_start(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    instance()
    alarm("web-1-system-check")
    api_calls.reset()
    handle("ec2-system-check-alarm", lambda_context)
    assert api_calls.of("ec2", "StopInstances") == api_calls.of("ec2", "StartInstances") == 1
    assert api_calls.of("ec2", "RebootInstances") == 0
    state = boto3.client("ec2").describe_instances(InstanceIds=[WEB])["Reservations"][0][
        "Instances"][0]["State"]["Name"]
    assert state == "running"


def test_an_auto_scaling_member_is_marked_unhealthy(lambda_context: FakeLambdaContext) -> None:
    worker_group()
    alarm("workers-i-0b2c-memory")
    handle("asg-instance-alarm", lambda_context)
    health = boto3.client("autoscaling").describe_auto_scaling_instances(
        InstanceIds=[WORKER])["AutoScalingInstances"][0]["HealthStatus"]
    assert health.upper() == "UNHEALTHY"


def test_an_ecs_service_gets_a_new_deployment(lambda_context: FakeLambdaContext,
                                              api_calls: ApiCalls) -> None:
    arn = service()
    alarm("orders-api-5xx")
    api_calls.reset()
    handle("ecs-service-alarm", lambda_context)
    assert api_calls.of("ecs", "UpdateService") == 1
    tags = boto3.client("ecs").list_tags_for_resource(resourceArn=arn)["tags"]
    assert {"key": "opskit:healed-at", "value": "2026-11-23T10:42:18+00:00"} in tags


def test_a_lambda_alarm_is_only_reported(lambda_context: FakeLambdaContext,
                                         alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    alarm("thumbnailer-errors")
    api_calls.reset()
    handle("lambda-errors-alarm", lambda_context)
    assert api_calls.of("lambda") == 0
    (report,) = alert_inbox.received()
    assert report["title"] == ("thumbnailer-errors: lambda:function thumbnailer is unhealthy "
                               "(nothing to restart: reported)")


@pytest.mark.parametrize(("event", "why"), [
    ("asg-group-alarm", "the alarm watches group workers as a whole: no instance to replace"),
    ("unknown-dimensions-alarm", "no target this automation can heal in the alarm's dimensions "
                                 "(QueueName=orders)"),
])
def test_alarms_without_a_usable_target_are_reported(lambda_context: FakeLambdaContext,
                                                     alert_inbox: AlertInbox,
                                                     api_calls: ApiCalls, event: str,
                                                     why: str) -> None:
    alarm(load_event(f"self_healing/{event}.json")["detail"]["alarmName"])
    api_calls.reset()
    handle(event, lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"][0].startswith(why)
    assert report["alarm_link"].endswith(report["alarm"])
    assert [op for (_, op) in api_calls.counts if op.startswith(("Reboot", "Stop", "Update"))] \
        == []


def test_the_cooldown_refuses_a_second_heal(lambda_context: FakeLambdaContext,
                                            alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    instance()
    alarm("web-1-cpu-high")
    handle("ec2-cpu-alarm", lambda_context)
    alert_inbox.received()
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context, time="2026-11-23T11:00:00Z")  # 18 minutes later
    assert api_calls.of("ec2", "RebootInstances") == 0
    (report,) = alert_inbox.received()
    assert report["notes"] == ["cooldown: healed at 10:42 UTC, less than 30 minutes ago"]
    handle("ec2-cpu-alarm", lambda_context, time="2026-11-23T11:30:00Z")
    assert api_calls.of("ec2", "RebootInstances") == 1


def test_the_hourly_limit_counts_stamps_across_the_account(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("MAX_ACTIONS_PER_HOUR", "2")
    for index, instance_id in enumerate(("i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2")):
        instance(instance_id, tags={"opskit:healed-at": f"2026-11-23T10:1{index}:00+00:00"})
    instance()
    alarm("web-1-cpu-high")
    handle("ec2-cpu-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"] == ["limit: 2 heals already in the last hour"]
    assert healed_at(WEB) is None


def test_a_flapping_alarm_is_left_to_a_person(lambda_context: FakeLambdaContext,
                                              alert_inbox: AlertInbox) -> None:
    instance()
    alarm("web-1-cpu-high")
    with quiet_history(4):
        handle("ec2-cpu-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"][0].startswith("flapping: 3 or more changes to ALARM in the last hour")


def test_exempt_targets_and_alarms_not_opted_in_are_left_alone(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    instance(tags={"opskit:exempt": "true"})
    alarm("web-1-cpu-high")
    alarm("web-1-system-check", remedy=None)
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context)
    handle("ec2-system-check-alarm", lambda_context)
    assert api_calls.of("ec2", "RebootInstances") == api_calls.of("ec2", "StopInstances") == 0
    (report,) = alert_inbox.received()  # not opted in: logged, not reported
    assert report["notes"] == ["exempt: tagged opskit:exempt"]


def test_a_mapping_opts_alarms_in_without_a_tag(lambda_context: FakeLambdaContext,
                                                monkeypatch: pytest.MonkeyPatch,
                                                api_calls: ApiCalls) -> None:
    monkeypatch.setenv("HEAL_MAPPINGS", '{"web-*-cpu-high": "reboot"}')
    instance()
    alarm("web-1-cpu-high", remedy=None)
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context)
    assert api_calls.of("ec2", "RebootInstances") == 1


def test_stop_start_is_refused_for_spot_or_instance_store_roots(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    from self_healing import healing

    instance()
    alarm("web-1-system-check")
    real = healing.find_target

    def spot(clients: Any, alarm_change: Any) -> Any:
        target = real(clients, alarm_change)
        return healing.Target(target.kind, target.resource, target.tags,
                              {**target.details, "lifecycle": "spot"})

    monkeypatch.setattr(healing, "find_target", spot)
    handle("ec2-system-check-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"] == ["stop/start would lose an instance-store root or a spot instance"]


def test_dry_run_plans_and_changes_nothing(lambda_context: FakeLambdaContext,
                                           monkeypatch: pytest.MonkeyPatch,
                                           api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    instance()
    alarm("web-1-cpu-high")
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context)
    assert api_calls.of("ec2", "RebootInstances") == api_calls.of("ec2", "CreateTags") == 0
    (report,) = alert_inbox.received()
    assert report["title"] == f"Would reboot {WEB} (web-1-cpu-high)"


@pytest.mark.usefixtures("aws")
def test_an_event_that_is_not_an_alarm_is_refused(lambda_context: FakeLambdaContext) -> None:
    from opskit.events import EventError

    with pytest.raises(EventError, match="detail-type='EC2 Instance State-change Notification'"):
        handle("invalid-not-an-alarm", lambda_context)


def test_a_bad_mapping_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from opskit.config import ConfigError
    from self_healing.settings import HealConfig

    monkeypatch.setenv("HEAL_MAPPINGS", '{"web-*": "terminate"}')
    with pytest.raises(ConfigError, match="'web-\\*' maps to 'terminate'"):
        HealConfig.from_env()


@pytest.mark.parametrize(("prepare", "note"), [
    ("gone", "instance i-0a1b2c3d4e5f60718 no longer exists"),
    ("stopped", "the instance is stopped: nothing to restart"),
    ("bad-tag", "tag opskit:heal='terminate' is invalid: expected one of auto, reboot, "
                "stop-start, redeploy, replace, report"),
])
def test_targets_that_cannot_be_healed_are_refused_and_reported(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, prepare: str,
        note: str) -> None:
    alarm("web-1-cpu-high", remedy="terminate" if prepare == "bad-tag" else "auto")
    if prepare != "gone":
        instance()
    if prepare == "stopped":
        boto3.client("ec2").stop_instances(InstanceIds=[WEB])
    handle("ec2-cpu-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"] == [note]


def test_a_heal_that_fails_says_so(lambda_context: FakeLambdaContext,
                                   monkeypatch: pytest.MonkeyPatch,
                                   alert_inbox: AlertInbox) -> None:
    from botocore.exceptions import ClientError

    from self_healing import healing

    def broken(*_: Any) -> Any:
        def apply(_: Any) -> None:
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}},
                              "RebootInstances")
        return apply

    monkeypatch.setattr(healing, "_applier", broken)
    instance()
    alarm("web-1-cpu-high")
    handle("ec2-cpu-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert (report["title"], report["severity"]) == (
        f"Could not reboot {WEB} (web-1-cpu-high)", "critical")
