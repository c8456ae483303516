"""Self-healing on moto: each action, where opt-in comes from, every refusal, the stop/start."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest

from opskit import instance_store
from self_healing import app, healing
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event
from tests.self_healing.ec2_timeline import FakeClock, Script, Timeline, scripted
from tests.self_healing.seed import (
    OPTED_IN,
    PEER,
    WEB,
    WORKER,
    alarm,
    instance,
    quiet_history,
    service,
    worker_group,
)

STORE_OPT_IN = "opskit:stop-erases-instance-store"


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> Iterator[None]:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    monkeypatch.setattr(instance_store, "_KNOWN", {})  # each test looks its types up
    with quiet_history(1):
        yield


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Every wait sleeps on this clock: nothing sleeps for real."""
    fake = FakeClock()
    monkeypatch.setattr(app, "clock", fake)
    return fake


@dataclass
class Invocation(FakeLambdaContext):
    """A context with this much time left (a fresh invocation of the 900-second function)."""

    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def handle(name: str, context: FakeLambdaContext, **changes: Any) -> dict[str, Any]:
    event = load_event(f"self_healing/{name}.json")
    event.update(changes)
    result: dict[str, Any] = app.lambda_handler(event, context)
    return result


def healed_at(instance_id: str) -> str | None:
    return tags_of(instance_id).get("opskit:healed-at")


def tags_of(instance_id: str) -> dict[str, str]:
    tags = boto3.client("ec2").describe_tags(
        Filters=[{"Name": "resource-id", "Values": [instance_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def state_of(instance_id: str) -> str:
    return str(boto3.client("ec2").describe_instances(InstanceIds=[instance_id])[
        "Reservations"][0]["Instances"][0]["State"]["Name"])


def test_a_cpu_alarm_reboots_the_instance_and_stamps_it(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    instance(tags=OPTED_IN)
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
        lambda_context: FakeLambdaContext, api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    instance(tags=OPTED_IN)
    alarm("web-1-system-check")
    api_calls.reset()
    handle("ec2-system-check-alarm", lambda_context)
    assert api_calls.of("ec2", "StopInstances") == api_calls.of("ec2", "StartInstances") == 1
    assert api_calls.of("ec2", "RebootInstances") == 0
    assert api_calls.of("ec2", "DescribeInstanceTypes") == 1  # t3.micro: no instance store
    assert state_of(WEB) == "running"
    (report,) = alert_inbox.received()
    assert (report["title"], report["severity"]) == (
        f"Did stop-start {WEB} (web-1-system-check)", "warning")
    assert report["stop_start"]["state"] == "running"


def test_an_auto_scaling_member_is_marked_unhealthy(lambda_context: FakeLambdaContext) -> None:
    worker_group()  # the group's opskit:heal=auto, given to its instance at launch
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


def test_a_lambda_alarm_mapped_in_is_only_reported(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEAL_MAPPINGS", '{"thumbnailer-*": "report"}')
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
    alarm(load_event(f"self_healing/{event}.json")["detail"]["alarmName"], request="auto")
    api_calls.reset()
    handle(event, lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"][0].startswith(why)
    assert report["alarm_link"].endswith(report["alarm"])
    assert [op for (_, op) in api_calls.counts if op.startswith(("Reboot", "Stop", "Update"))] \
        == []


def test_the_cooldown_refuses_a_second_heal(lambda_context: FakeLambdaContext,
                                            alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    instance(tags=OPTED_IN)
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
    instance(tags=OPTED_IN)
    alarm("web-1-cpu-high")
    handle("ec2-cpu-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"] == ["limit: 2 heals already in the last hour"]
    assert healed_at(WEB) is None


def test_a_flapping_alarm_is_left_to_a_person(lambda_context: FakeLambdaContext,
                                              alert_inbox: AlertInbox) -> None:
    instance(tags=OPTED_IN)
    alarm("web-1-cpu-high")
    with quiet_history(4):
        handle("ec2-cpu-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"][0].startswith("flapping: 3 or more changes to ALARM in the last hour")


def test_exempt_targets_are_left_alone(lambda_context: FakeLambdaContext,
                                       alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    instance(tags={**OPTED_IN, "opskit:exempt": "true"})
    alarm("web-1-cpu-high")
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context)
    assert api_calls.of("ec2", "RebootInstances") == 0
    (report,) = alert_inbox.received()
    assert report["notes"] == ["exempt: tagged opskit:exempt"]


def test_alarms_and_targets_that_did_not_opt_in_are_left_alone_unreported(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    instance()
    alarm("web-1-system-check")
    api_calls.reset()
    result = handle("ec2-system-check-alarm", lambda_context)
    assert api_calls.of("ec2", "StopInstances") == 0
    assert result["targets"][0]["title"] == "web-1-system-check has not opted in to healing"
    assert alert_inbox.received() == []


def test_the_targets_own_tag_opts_it_in(lambda_context: FakeLambdaContext,
                                        api_calls: ApiCalls) -> None:
    """The alarm carries no tag: the instance's opskit:heal is enough."""
    instance(tags={"opskit:heal": " Reboot "})
    alarm("web-1-cpu-high")
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context)
    assert api_calls.of("ec2", "RebootInstances") == 1


def test_an_alarm_tag_alone_does_not_opt_a_target_in(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    """Whoever can tag an alarm cannot have any instance stopped: the target must opt in."""
    instance()
    alarm("web-1-system-check", request="stop-start")
    api_calls.reset()
    handle("ec2-system-check-alarm", lambda_context)
    assert api_calls.of("ec2", "StopInstances") == api_calls.of("ec2", "StartInstances") == 0
    (report,) = alert_inbox.received()
    assert report["notes"] == [
        f"the alarm's tag opskit:heal='stop-start' does not opt in: tag the target {WEB} with "
        "opskit:heal, or map the alarm (HEAL_MAPPINGS)"]


@pytest.mark.parametrize(("granted", "asked", "stops", "reboots", "note"), [
    ("reboot", "stop-start", 0, 0,
     "the alarm's tag opskit:heal='stop-start' asks for more than the target's tag opskit:heal "
     "grants (reboot): an alarm may only ask for a gentler action"),
    ("auto", "reboot", 0, 1, None),  # auto grants a stop-start here; the alarm asks for less
    ("stop-start", "auto", 1, 0, None),  # auto on the alarm narrows nothing
])
def test_an_alarm_may_narrow_the_remedy_but_never_widen_it(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls, *,
        granted: str, asked: str, stops: int, reboots: int, note: str | None) -> None:
    instance(tags={"opskit:heal": granted})
    alarm("web-1-system-check", request=asked)
    api_calls.reset()
    handle("ec2-system-check-alarm", lambda_context)
    assert api_calls.of("ec2", "StopInstances") == stops
    assert api_calls.of("ec2", "RebootInstances") == reboots
    (report,) = alert_inbox.received()
    assert report.get("notes") == ([note] if note else None)


def test_a_mapping_opts_alarms_in_without_a_tag(lambda_context: FakeLambdaContext,
                                                monkeypatch: pytest.MonkeyPatch,
                                                api_calls: ApiCalls) -> None:
    monkeypatch.setenv("HEAL_MAPPINGS", '{"web-*-cpu-high": "reboot"}')
    instance()
    alarm("web-1-cpu-high")
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context)
    assert api_calls.of("ec2", "RebootInstances") == 1


def _with_metrics(*metrics: dict[str, Any]) -> dict[str, Any]:
    detail = load_event("self_healing/ec2-cpu-alarm.json")["detail"]
    return {**detail, "configuration": {"metrics": list(metrics)}}


def _stat(dimensions: dict[str, str], name: str = "CPUUtilization") -> dict[str, Any]:
    return {"id": "m1", "metricStat": {"metric": {"namespace": "AWS/EC2", "name": name,
                                                  "dimensions": dimensions}}}


@pytest.mark.parametrize(("detail", "note", "targets"), [
    (None, f"the alarm's metrics name 2 targets (InstanceId={WEB}; InstanceId={PEER}): it heals "
           "one target per alarm", [f"InstanceId={WEB}", f"InstanceId={PEER}"]),
    (_with_metrics({"id": "e1", "expression": "SEARCH('{AWS/EC2,InstanceId} CPUUtilization', "
                                              "'Average', 300)"}, _stat({"InstanceId": WEB})),
     "the alarm's expression e1 searches metrics: the targets it reads are not listed (alarm "
     "on one target's metrics instead)", None),
    (_with_metrics(_stat({"InstanceId": WEB}), _stat({"AutoScalingGroupName": "workers"})),
     f"the alarm's metrics name 2 targets (InstanceId={WEB}; AutoScalingGroupName=workers): it "
     "heals one target per alarm", [f"InstanceId={WEB}", "AutoScalingGroupName=workers"]),
])
def test_an_alarm_whose_metrics_name_several_targets_is_refused_and_names_them(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls, *,
        detail: dict[str, Any] | None, note: str, targets: list[str] | None) -> None:
    """The metric math alarm of web-1 and web-2 rebooted web-1, the first listed."""
    instance(tags=OPTED_IN)
    instance(PEER, tags=OPTED_IN)
    alarm("web-pair-cpu-high")
    alarm("web-1-cpu-high", request="auto")  # the alarm asks: the refusal is reported
    api_calls.reset()
    if detail is None:
        handle("ec2-metric-math-alarm", lambda_context)
    else:
        handle("ec2-cpu-alarm", lambda_context, detail=detail)
    assert api_calls.of("ec2", "RebootInstances") == api_calls.of("ec2", "StopInstances") == 0
    (report,) = alert_inbox.received()
    assert report["notes"] == [note]
    assert report.get("targets") == targets


def test_a_math_alarm_over_targets_that_did_not_opt_in_is_not_reported(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    instance()
    instance(PEER)
    alarm("web-pair-cpu-high")
    result = handle("ec2-metric-math-alarm", lambda_context)
    assert result["targets"][0]["title"] == "web-pair-cpu-high has not opted in to healing"
    assert alert_inbox.received() == []


@pytest.mark.parametrize(("prepare", "note"), [
    ("protected", "the instance is protected from scale-in in group workers: it is not "
                  "replaced"),
    ("standby", "the instance is Standby in group workers: only an InService instance is "
                "replaced"),
    ("stateful", "the group is tagged opskit:stateful=true: group workers holds state, its "
                 "instances are not replaced"),
])
def test_protected_standby_or_stateful_members_are_not_replaced(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls,
        prepare: str, note: str) -> None:
    tags = {**OPTED_IN, "opskit:stateful": "true"} if prepare == "stateful" else None
    worker_group(tags, protected=prepare == "protected")
    if prepare == "standby":
        boto3.client("autoscaling").enter_standby(
            AutoScalingGroupName="workers", InstanceIds=[WORKER],
            ShouldDecrementDesiredCapacity=True)
    alarm("workers-i-0b2c-memory")
    api_calls.reset()
    handle("asg-instance-alarm", lambda_context)
    assert api_calls.of("autoscaling", "SetInstanceHealth") == 0
    (report,) = alert_inbox.received()
    assert report["notes"] == [note]


def test_an_instance_with_instance_store_volumes_is_not_stopped(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    """An EBS root and local NVMe disks: a stop erases the disks."""
    instance(tags=OPTED_IN, instance_type="m5d.large")
    alarm("web-1-system-check")
    api_calls.reset()
    handle("ec2-system-check-alarm", lambda_context)
    assert api_calls.of("ec2", "DescribeInstanceTypes") == 1
    assert api_calls.of("ec2", "StopInstances") == 0
    assert state_of(WEB) == "running"
    (report,) = alert_inbox.received()
    assert report["notes"] == [
        "instance type m5d.large has instance-store volumes, which a stop erases (tag "
        f"{STORE_OPT_IN}=true to allow)"]
    assert report["actions"][0]["action"] == "stop-start"


def test_its_owner_may_accept_losing_instance_store_data(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    instance(tags={**OPTED_IN, STORE_OPT_IN: "yes"}, instance_type="i4i.large")
    alarm("web-1-system-check")
    api_calls.reset()
    handle("ec2-system-check-alarm", lambda_context)
    assert api_calls.of("ec2", "StopInstances") == api_calls.of("ec2", "StartInstances") == 1


def test_a_reboot_keeps_instance_store_data_so_it_goes_ahead(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    instance(tags=OPTED_IN, instance_type="c6gd.medium")
    alarm("web-1-cpu-high")
    api_calls.reset()
    handle("ec2-cpu-alarm", lambda_context)
    assert api_calls.of("ec2", "RebootInstances") == 1
    assert api_calls.of("ec2", "DescribeInstanceTypes") == 0


def test_stop_start_is_refused_for_a_spot_instance(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    instance(tags=OPTED_IN)
    alarm("web-1-system-check")
    real = healing.find_target

    def spot(clients: Any, subject: Any) -> Any:
        target = real(clients, subject)
        assert isinstance(target, healing.Target)
        assert target.instance is not None
        return replace(target, instance=replace(target.instance, lifecycle="spot"))

    monkeypatch.setattr(healing, "find_target", spot)
    handle("ec2-system-check-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"] == [f"stop/start would lose spot instance {WEB}"]


# ------------------------------------------------------------------ the stop/start's timeline
@pytest.fixture
def timeline(clock: FakeClock) -> Iterator[Timeline]:
    with scripted(Timeline(clock)) as scripted_timeline:
        yield scripted_timeline


def stop_start(timeline: Timeline, script: Script, remaining_ms: int = 900_000) -> None:
    timeline.script = script
    instance(tags=OPTED_IN)
    alarm("web-1-system-check")
    handle("ec2-system-check-alarm", Invocation(remaining_ms=remaining_ms))


def test_a_stop_that_hangs_is_forced_then_the_instance_is_started_and_waited_for(
        timeline: Timeline, alert_inbox: AlertInbox) -> None:
    stop_start(timeline, Script(stop_seconds=None, forced_stop_seconds=30, start_seconds=50))
    # 240 s of clean shutdown, then forced; stopped 30 s later (seen at the next poll).
    assert timeline.stops == [(0, False), (240, True)]
    assert timeline.starts == [270]
    assert state_of(WEB) == "running"
    (report,) = alert_inbox.received()
    assert (report["title"], report["severity"]) == (
        f"Did stop-start {WEB} (web-1-system-check)", "warning")
    assert report["stop_start"] == {
        "instance": WEB, "state": "running", "forced_after_seconds": 240,
        "stopped_after_seconds": 270, "started_after_seconds": 270,
        "running_after_seconds": 330}
    assert healed_at(WEB) == "2026-11-23T10:42:18+00:00"


def test_the_heal_is_done_only_once_the_instance_runs_again(
        timeline: Timeline, alert_inbox: AlertInbox, clock: FakeClock) -> None:
    stop_start(timeline, Script(stop_seconds=30, start_seconds=90))
    assert clock.now == 120  # started at 30 s, seen running at 120 s, then reported
    assert timeline.stops == [(0, False)]  # stopped in time: no force
    (report,) = alert_inbox.received()
    assert report["title"] == f"Did stop-start {WEB} (web-1-system-check)"
    assert report["stop_start"]["running_after_seconds"] == 120


def test_an_instance_that_does_not_run_again_is_reported_critical(
        timeline: Timeline, alert_inbox: AlertInbox, clock: FakeClock) -> None:
    stop_start(timeline, Script(stop_seconds=0, start_seconds=None))  # stays pending
    (report,) = alert_inbox.received()
    assert (report["title"], report["severity"]) == (
        f"Could not stop-start {WEB} (web-1-system-check)", "critical")
    assert report["counts"]["failed"] == 1
    # Waited for `running` until the deadline: 900 s left less the 30 s margin.
    assert clock.now == 870
    assert report["notes"] == [f"StopStartError: {WEB} is pending, not running, 870 s after the "
                               "stop (started at 15 s)"]
    assert healed_at(WEB) is not None  # it was stopped: the cooldown holds


def test_an_instance_still_stopping_is_not_started_and_reported_critical(
        timeline: Timeline, alert_inbox: AlertInbox, clock: FakeClock) -> None:
    stop_start(timeline, Script(stop_seconds=None, forced_stop_seconds=None))
    assert timeline.stops == [(0, False), (240, True)]
    assert timeline.starts == []
    assert clock.now == 810  # the stop waits end 60 s before the deadline
    (report,) = alert_inbox.received()
    assert (report["title"], report["severity"]) == (
        f"Could not stop-start {WEB} (web-1-system-check)", "critical")
    assert report["notes"] == [f"StopStartError: {WEB} is still stopping 810 s after the stop, "
                               "forced at 240 s: not started; start it once it has stopped"]


def test_a_stop_that_ends_after_the_force_wait_began_is_still_started(
        timeline: Timeline, alert_inbox: AlertInbox) -> None:
    """The first wait gave up at 240 s; the instance stopped at 600 s: it is started."""
    stop_start(timeline, Script(stop_seconds=600, forced_stop_seconds=None))
    assert timeline.starts == [600]
    (report,) = alert_inbox.received()
    assert report["severity"] == "warning"
    assert report["stop_start"]["state"] == "running"


def test_the_waits_fit_in_the_invocations_time(timeline: Timeline, clock: FakeClock,
                                               alert_inbox: AlertInbox) -> None:
    """300 s left: 270 s to use; the stop is forced at half of the 210 s the stop may take."""
    stop_start(timeline, Script(stop_seconds=None, forced_stop_seconds=None),
               remaining_ms=300_000)
    assert timeline.stops == [(0, False), (105, True)]
    assert clock.now == 210
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"


def test_too_little_time_left_stops_nothing(timeline: Timeline, alert_inbox: AlertInbox) -> None:
    stop_start(timeline, Script(), remaining_ms=150_000)
    assert timeline.stops == []
    assert state_of(WEB) == "running"
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    assert report["notes"] == [f"StopStartError: {WEB} not stopped: 120 s left in this "
                               "invocation, a stop/start needs 180 s"]
    assert healed_at(WEB) is None


def test_a_start_refused_for_capacity_is_tried_again(timeline: Timeline,
                                                     alert_inbox: AlertInbox) -> None:
    stop_start(timeline, Script(start_refusals=2))
    assert timeline.refused_starts == [15, 30]  # stopped at the second poll
    assert timeline.starts == [45]
    (report,) = alert_inbox.received()
    assert report["stop_start"]["state"] == "running"


def test_a_state_that_cannot_be_read_does_not_end_the_stop_start(
        timeline: Timeline, alert_inbox: AlertInbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """One DescribeInstances refused during the wait: the next poll goes on, the start comes."""
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses.instances import InstanceResponse

    describe = InstanceResponse.describe_instances
    calls: list[int] = []

    def flaky(self: InstanceResponse) -> Any:
        calls.append(1)
        if len(calls) == 3:  # the target's read, the first poll, then this one
            raise EC2ClientError("UnauthorizedOperation", "You are not authorized.")
        return describe(self)

    monkeypatch.setattr(InstanceResponse, "describe_instances", flaky)
    stop_start(timeline, Script(stop_seconds=40))
    assert timeline.starts == [45]
    (report,) = alert_inbox.received()
    assert report["stop_start"]["state"] == "running"


def test_dry_run_plans_and_changes_nothing(lambda_context: FakeLambdaContext,
                                           monkeypatch: pytest.MonkeyPatch,
                                           api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    instance(tags=OPTED_IN)
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
    alarm("web-1-cpu-high", request="auto" if prepare == "gone" else None)
    if prepare != "gone":
        instance(tags={"opskit:heal": "terminate" if prepare == "bad-tag" else "auto"})
    if prepare == "stopped":
        boto3.client("ec2").stop_instances(InstanceIds=[WEB])
    handle("ec2-cpu-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert report["notes"] == [note]


def test_a_heal_that_fails_says_so(lambda_context: FakeLambdaContext,
                                   monkeypatch: pytest.MonkeyPatch,
                                   alert_inbox: AlertInbox) -> None:
    from botocore.exceptions import ClientError

    def broken(*_: Any, **__: Any) -> Any:
        def apply(_: Any) -> None:
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}},
                              "RebootInstances")
        return apply

    monkeypatch.setattr(healing, "_applier", broken)
    instance(tags=OPTED_IN)
    alarm("web-1-cpu-high")
    handle("ec2-cpu-alarm", lambda_context)
    (report,) = alert_inbox.received()
    assert (report["title"], report["severity"]) == (
        f"Could not reboot {WEB} (web-1-cpu-high)", "critical")
