"""The mark's date: one a run cannot have written (more than a grace period past or ahead)
starts a new grace period instead of deleting at once or never (issue 20)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
import time_machine

from tests.conftest import FakeLambdaContext
from tests.resource_cleanup.runs import TAG, actions_of, ec2_tags, run
from tests.resource_cleanup.seed import AZ, LONG_AGO

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def marked_volume(value: str) -> str:
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        return str(ec2.create_volume(AvailabilityZone=AZ, Size=10, TagSpecifications=[{
            "ResourceType": "volume", "Tags": [{"Key": TAG, "Value": value}]}])["VolumeId"])


@pytest.mark.usefixtures("live")
@pytest.mark.parametrize(("written", "why"), [
    ("2026-01-01", "the mark 2026-01-01 is more than 7 days past: a new grace period"),
    ("2030-01-01", "the mark 2030-01-01 is more than 7 days ahead: a new grace period"),
])
def test_a_mark_no_run_could_have_written_starts_a_new_grace_period(
        lambda_context: FakeLambdaContext, reports: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch, written: str, why: str) -> None:
    monkeypatch.setenv("RESOURCE_TYPES", "ebs-volume")
    volume = marked_volume(written)
    run(lambda_context)
    assert volume in {v["VolumeId"] for v in boto3.client("ec2").describe_volumes()["Volumes"]}
    assert ec2_tags(volume) == {TAG: "2026-11-30"}
    (marked,) = actions_of(reports[-1], volume)
    assert (marked["action"], marked["status"], marked["details"]["previous_mark"]) == (
        "mark-for-cleanup", "done", written)
    assert marked["reason"] == (f"unattached 10 GiB gp2 volume; {why}; will delete on or after "
                                "2026-11-30 unless the opskit:cleanup-after tag is removed")


@pytest.mark.parametrize(("due", "stray"), [
    (date(2026, 11, 16), False),  # a week late (runs missed): due, deleted
    (date(2026, 11, 15), True),
    (date(2026, 11, 30), False),  # what a run writes today
    (date(2026, 12, 1), True),
])
def test_the_marks_a_run_can_have_written_span_one_grace_period_each_way(
        due: date, stray: bool) -> None:
    from resource_cleanup.lifecycle import stray_mark
    from resource_cleanup.settings import CleanupConfig

    config = CleanupConfig.from_env({"AWS_REGION": "eu-west-1"})
    assert (stray_mark(due, NOW, config) is not None) is stray
