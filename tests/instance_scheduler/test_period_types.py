"""A period's EC2 instance type (`08:00-19:00@t3.large`): the grammar, which period's type
applies when, and the resize before a start, only of an instance the scheduler stopped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse

from instance_scheduler.schedule import ScheduleError, parse_schedule
from opskit import aws
from tests.instance_scheduler.harness import NEXT_MONDAY_NOON, SATURDAY_NOON, run
from tests.instance_scheduler.seed import make_instances

PARIS = ZoneInfo("Europe/Paris")
EC2 = {"RESOURCE_TYPES": "ec2"}


def parse(text: str) -> Any:
    return parse_schedule(text, default_timezone=PARIS)


# ---------------------------------------------------------------- grammar
def test_a_time_range_names_its_instance_type() -> None:
    schedule = parse("mon-fri 08:00-12:00@m7g.2xlarge 12:00-19:00@T3.Large sat 10:00-14:00")
    assert [p.instance_type for p in schedule.periods] == ["m7g.2xlarge", "t3.large", None]
    assert schedule.wants_running(datetime(2026, 12, 7, 10, 0, tzinfo=PARIS))


@pytest.mark.parametrize(("when", "expected"), [
    (datetime(2026, 12, 7, 9, 0, tzinfo=PARIS), "m7g.2xlarge"),  # Monday morning
    (datetime(2026, 12, 7, 12, 0, tzinfo=PARIS), "t3.large"),  # the second period's first minute
    (datetime(2026, 12, 12, 11, 0, tzinfo=PARIS), None),  # Saturday: a period without a type
    (datetime(2026, 12, 7, 20, 0, tzinfo=PARIS), None),  # outside every period
    (datetime(2026, 12, 25, 9, 0, tzinfo=PARIS), None),  # a holiday
])
def test_the_type_is_the_running_periods(when: datetime, expected: str | None) -> None:
    schedule = parse("mon-fri 08:00-12:00@m7g.2xlarge 12:00-19:00@t3.large sat 10:00-14:00 "
                     "holidays:12-25")
    assert schedule.instance_type_at(when) == expected


def test_an_overnight_periods_type_holds_after_midnight_and_across_dst() -> None:
    schedule = parse("sat 22:00-06:00@c6in.metal")
    # The night clocks go back in Paris (Sunday 2026-10-25, 03:00 -> 02:00).
    assert schedule.instance_type_at(datetime(2026, 10, 25, 2, 30, tzinfo=UTC)) == "c6in.metal"
    assert schedule.instance_type_at(datetime(2026, 10, 25, 5, 30, tzinfo=UTC)) is None


@pytest.mark.parametrize(("text", "message"), [
    ("mon-fri 08:00-19:00@", "'' in '08:00-19:00@' is not an EC2 instance type"),
    ("mon-fri 08:00-19:00@large", "'large' in '08:00-19:00@large' is not an EC2 instance type"),
    ("mon-fri 08:00-19:00@t3", "'t3' in '08:00-19:00@t3' is not an EC2 instance type"),
    ("mon-fri 08:00-19:00@t3.large@m5.xlarge", "is not an EC2 instance type"),
    ("mon-fri 08:00-19:00@db.r6g.large", "is not an EC2 instance type"),
    ("mon-fri 08:00-25:00@t3.large", "25:00"),
])
def test_a_bad_instance_type_is_refused_with_the_word(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(")):
        parse(text)


# ---------------------------------------------------------------- on moto
def instance(instance_id: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("ec2").describe_instances(
        InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return found


def start_action(reports: list[dict[str, Any]], name: str = "start") -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in reports[-1]["actions"] if a["action"] == name)
    return found


@pytest.mark.usefixtures("clock", "aws")
def test_the_scheduler_resizes_what_it_stopped_then_starts_it(
        reports: list[dict[str, Any]]) -> None:
    (resized,) = make_instances(1, "mon-fri 08:00-19:00@t3.large UTC")
    (same,) = make_instances(1, "mon-fri 08:00-19:00@t3.micro UTC")
    run(SATURDAY_NOON, **EC2)
    assert instance(resized)["InstanceType"] == "t3.micro"  # a stop changes no type
    run(NEXT_MONDAY_NOON, **EC2)
    assert instance(resized)["State"]["Name"] == "running"
    assert instance(resized)["InstanceType"] == "t3.large"
    assert instance(same)["InstanceType"] == "t3.micro"
    done = {(a["resource"], a["action"]): a for a in reports[-1]["actions"]}
    assert done[(resized, "resize")]["status"] == "done"
    assert done[(resized, "resize")]["details"]["resize"] == "t3.micro to t3.large"
    assert done[(resized, "start")]["status"] == "done"
    assert (same, "resize") not in done


@pytest.mark.usefixtures("clock", "aws")
def test_an_instance_a_person_stopped_starts_with_its_own_type(
        reports: list[dict[str, Any]]) -> None:
    (instance_id,) = make_instances(1, "mon-fri 08:00-19:00@t3.large UTC")
    boto3.client("ec2").stop_instances(InstanceIds=[instance_id])  # no last-action tag
    run(NEXT_MONDAY_NOON, **EC2)
    assert instance(instance_id)["State"]["Name"] == "running"
    assert instance(instance_id)["InstanceType"] == "t3.micro"
    assert start_action(reports)["details"]["instance_type"] == (
        "kept t3.micro (the period names t3.large): opskit did not stop it, so its type is "
        "left as it is")


@pytest.fixture
def refuse_resize() -> Iterator[None]:
    """EC2 refuses every instance type change (as for a type the zone does not offer)."""
    body = (b"<Response><Errors><Error><Code>Unsupported</Code><Message>The requested "
            b"configuration is currently not supported.</Message></Error></Errors>"
            b"<RequestID>resize-0001</RequestID></Response>")
    raw: Any = type("Raw", (), {"stream": lambda self, **_: iter([body])})()

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return (AWSResponse("https://ec2.amazonaws.com/", 400, {}, raw),
                {"Error": {"Code": "Unsupported", "Message": "not supported"},
                 "ResponseMetadata": {"HTTPStatusCode": 400}})

    entry = ("before-call.ec2.ModifyInstanceAttribute", refuse)
    botocore.handlers.BUILTIN_HANDLERS.insert(0, entry)
    aws.forget()
    yield
    botocore.handlers.BUILTIN_HANDLERS.remove(entry)
    aws.forget()


@pytest.mark.usefixtures("clock", "aws", "refuse_resize")
def test_a_refused_type_change_fails_alone_and_the_instance_starts(
        reports: list[dict[str, Any]]) -> None:
    (instance_id,) = make_instances(1, "mon-fri 08:00-19:00@t3.large UTC")
    run(SATURDAY_NOON, **EC2)
    run(NEXT_MONDAY_NOON, **EC2)
    assert instance(instance_id)["State"]["Name"] == "running"
    assert instance(instance_id)["InstanceType"] == "t3.micro"
    resize = start_action(reports, "resize")
    assert resize["status"] == "failed"
    assert "Unsupported" in str(resize)
    assert start_action(reports)["status"] == "done"


@pytest.mark.usefixtures("clock", "aws")
def test_dry_run_says_the_resize_and_changes_nothing(reports: list[dict[str, Any]]) -> None:
    (instance_id,) = make_instances(1, "mon-fri 08:00-19:00@t3.large UTC")
    run(SATURDAY_NOON, **EC2)
    run(NEXT_MONDAY_NOON, DRY_RUN="true", **EC2)
    assert instance(instance_id)["State"]["Name"] == "stopped"
    assert instance(instance_id)["InstanceType"] == "t3.micro"
    resize = start_action(reports, "resize")
    assert (resize["status"], resize["details"]["resize"]) == ("planned", "t3.micro to t3.large")
    assert start_action(reports)["status"] == "planned"
