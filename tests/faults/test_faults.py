"""Fault injection: throttling, one target denied, a failure mid-batch, the Lambda deadline.

Faults are injected below the SDK: a `before-send` handler answers for AWS (so botocore's own
retry logic sees a real throttling response), or a `before-parameter-build` handler raises a
ClientError for the calls that name a given resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.handlers
import pytest
import time_machine
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from instance_scheduler import app
from opskit import aws
from opskit.actions import OUT_OF_TIME, Action, Executor
from tests.conftest import AlertInbox, FakeLambdaContext, load_event
from tests.instance_scheduler.seed import make_instances as _make_instances

EVENT = load_event("instance_scheduler/scheduler-run.json")  # Monday 07:05 UTC: stop time
EVENT_TIME = datetime(2026, 11, 23, 7, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _at_the_event_time() -> Iterator[None]:
    """The scheduler reads the clock: each test runs, from its instances to the reports it reads,
    at the sample event's time (Monday 07:05 UTC), never partly at the real date."""
    with time_machine.travel(EVENT_TIME):
        yield


@pytest.fixture(autouse=True)
def _live(_at_the_event_time: None, monkeypatch: pytest.MonkeyPatch,
          alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)


@pytest.fixture
def inject() -> Iterator[Callable[[str, Any], None]]:
    """inject(event_name, handler): a handler every client created afterwards runs first."""
    added: list[tuple[str, Any]] = []

    def add(event_name: str, handler: Any) -> None:
        botocore.handlers.BUILTIN_HANDLERS.insert(0, (event_name, handler))
        added.append((event_name, handler))
        aws.forget()  # clients live as long as a container: the next ones are made with it

    yield add
    for entry in added:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)


def _ec2_error(code: str, status: int) -> AWSResponse:
    body = (f"<Response><Errors><Error><Code>{code}</Code><Message>injected</Message></Error>"
            "</Errors><RequestID>fault-0001</RequestID></Response>").encode()
    raw: Any = type("Raw", (), {"stream": lambda self, **_: iter([body])})()
    return AWSResponse("https://ec2.amazonaws.com/", status, {}, raw)


def handle(context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(EVENT, context)
    return result


def make_instances(count: int) -> list[str]:
    """Running instances launched days before the sample event (Monday 07:05 UTC)."""
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, tzinfo=UTC), tick=False):
        return _make_instances(count)


def states(ids: list[str], region: str = "eu-west-1") -> dict[str, str]:
    reservations = boto3.client("ec2", region_name=region).describe_instances(
        InstanceIds=ids)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}


@pytest.mark.usefixtures("aws")
def test_throttling_recovers_through_the_sdks_retries(
        inject: Callable[[str, Any], None], lambda_context: FakeLambdaContext) -> None:
    ids = make_instances(3)
    throttles = {"left": 3}

    def throttle(**_: Any) -> AWSResponse | None:
        if throttles["left"]:
            throttles["left"] -= 1
            return _ec2_error("RequestLimitExceeded", 503)
        return None  # moto answers

    inject("before-send.ec2.StopInstances", throttle)
    result = handle(lambda_context)
    assert throttles["left"] == 0
    assert result["counts"]["done"] == 3
    assert set(states(ids).values()) == {"stopped"}


@pytest.mark.usefixtures("aws")
def test_access_denied_in_one_region_is_reported_and_the_others_complete(
        inject: Callable[[str, Any], None], lambda_context: FakeLambdaContext,
        monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("TARGET_REGIONS", "eu-west-1,us-east-2")
    ireland = make_instances(2)

    def deny_ohio(request: Any = None, **_: Any) -> AWSResponse | None:
        if request is not None and "us-east-2" in request.url:
            return _ec2_error("UnauthorizedOperation", 403)
        return None

    inject("before-send.ec2", deny_ohio)
    result = handle(lambda_context)
    assert set(states(ireland).values()) == {"stopped"}
    assert [(f["region"], f["error"].split(":")[0]) for f in result["failed_targets"]] == [
        ("us-east-2", "ClientError")]
    reports = {r["region"]: r for r in alert_inbox.received()}
    assert reports["us-east-2"]["severity"] == "critical"
    assert "UnauthorizedOperation" in reports["us-east-2"]["error"]
    assert reports["eu-west-1"]["counts"]["done"] == 2


@pytest.mark.usefixtures("aws")
def test_a_failure_mid_batch_leaves_exactly_what_the_report_says(
        inject: Callable[[str, Any], None], lambda_context: FakeLambdaContext,
        alert_inbox: AlertInbox) -> None:
    ids = make_instances(6)
    bad = ids[3]

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if bad in params.get("InstanceIds", []):
            raise ClientError({"Error": {"Code": "IncorrectInstanceState",
                                         "Message": "injected"}}, "StopInstances")

    inject("before-parameter-build.ec2.StopInstances", refuse)
    handle(lambda_context)
    (report,) = alert_inbox.received()
    said = {a["resource"]: a["status"] for a in report["actions"]}
    actual = states(ids)
    assert said == {i: ("failed" if i == bad else "done") for i in ids}
    assert actual == {i: ("running" if i == bad else "stopped") for i in ids}


def test_near_the_deadline_no_write_starts_and_the_rest_is_reported() -> None:
    late = iter([False, True, True])  # room for one batch, then the deadline is near
    applied: list[list[str]] = []
    executor = Executor(False, "opskit:exempt", out_of_time=lambda: next(late))
    actions = [Action(f"i-{n}", "ec2:instance", "stop", "test") for n in range(6)]
    executor.run(actions, lambda batch: applied.append([a.resource for a in batch]),
                 batch_size=2)
    assert applied == [["i-0", "i-1"]]
    assert [(o.action.resource, o.status.value, o.note) for o in executor.outcomes[2:]] == [
        (f"i-{n}", "skipped", OUT_OF_TIME) for n in range(2, 6)]


@pytest.mark.usefixtures("aws")
def test_targets_not_started_before_the_deadline_are_reported(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("TARGET_REGIONS", "eu-west-1,us-east-2,eu-central-1")
    make_instances(1)
    # Room to start the first target and its one batch; then less than the 30-second margin.
    remaining = iter([120_000, 120_000] + [10_000] * 100)
    monkeypatch.setattr(lambda_context, "get_remaining_time_in_millis",
                        lambda: next(remaining))
    result = handle(lambda_context)
    assert [t["region"] for t in result["targets"]] == ["eu-west-1"]
    assert [(f["region"], f["error"]) for f in result["failed_targets"]] == [
        ("us-east-2", "not started: out of time for this run"),
        ("eu-central-1", "not started: out of time for this run")]
