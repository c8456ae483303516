"""`opskit plan` on a moto account: the plan of a scheduled run, dry run forced, writes refused.

The schedules used want the instance running at every minute of every day (or are malformed),
so the plan is the same whatever today's date is."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest

from opskit.actions import Executor
from opskit.aws import Target
from opskit.runner import TargetRun
from tests.cli.conftest import Opskit
from tests.conftest import ACCOUNT, EVENTS, REGION

ALWAYS = "enforced daily 00:00-24:00"


def instance(schedule: str, *, stopped: bool = False) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    made = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                             TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                 {"Key": "Schedule", "Value": schedule}]}])
    instance_id: str = made["Instances"][0]["InstanceId"]
    if stopped:
        ec2.stop_instances(InstanceIds=[instance_id])
    return instance_id


def state(instance_id: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("ec2", region_name=REGION).describe_instances(
        InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return found


@pytest.mark.usefixtures("aws")
def test_the_plan_is_a_table_and_nothing_changes(opskit: Opskit,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "false")  # the shell's value never reaches a plan
    stopped = instance(ALWAYS, stopped=True)
    broken = instance("mon-fri 8h-19h")
    ran = opskit("plan", "instance_scheduler", "--region", REGION)
    assert ran.status == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == f"{ACCOUNT}/{REGION}: Would start 1 EC2; 1 failed"
    assert lines[2].split() == ["resource", "action", "status", "reason"]
    row = next(line for line in lines if line.startswith(stopped))
    assert row.split()[1:3] == ["start", "planned"]
    assert f"inside '{ALWAYS}'" in row
    assert "invalid Schedule tag 'mon-fri 8h-19h'" in next(
        line for line in lines if line.startswith(broken))
    assert "1 planned, 0 skipped, 1 failed, in 1 target(s); dry run: nothing was changed" \
        in ran.out
    assert state(stopped)["State"]["Name"] == "stopped"
    assert os.environ["DRY_RUN"] == "false"  # the environment is the shell's again
    # Progress, on standard error: one line per target.
    assert f"[1] {ACCOUNT}/{REGION}: Would start 1 EC2; 1 failed" in ran.err


@pytest.mark.usefixtures("aws")
def test_json_prints_the_reports_the_function_would_publish(opskit: Opskit) -> None:
    stopped = instance(ALWAYS, stopped=True)
    ran = opskit("plan", "instance_scheduler", "--json", "--quiet")
    assert ran.status == 0, ran.err
    assert ran.err == ""
    (report,) = json.loads(ran.out)
    assert report["schema"] == "opskit.report/1"
    assert report["dry_run"] is True
    assert (report["account"], report["region"]) == (ACCOUNT, REGION)
    assert report["counts"] == {"done": 0, "planned": 1, "skipped": 0, "failed": 0}
    assert report["actions"][0]["resource"] == stopped
    assert report["actions"][0]["status"] == "planned"


@pytest.mark.usefixtures("aws")
def test_a_write_in_a_plan_is_refused_and_fails_its_target(
        opskit: Opskit, monkeypatch: pytest.MonkeyPatch) -> None:
    """An automation that would write even in dry run: the guard stops the call before it is
    sent, the target is reported failed, and moto shows nothing changed."""
    running = instance(ALWAYS)

    def writes(target: Target, executor: Executor, *_: Any) -> TargetRun:
        target.session.client("ec2").create_tags(
            Resources=[running], Tags=[{"Key": "opskit:scheduler-last", "Value": "x"}])
        return TargetRun()

    monkeypatch.setattr("instance_scheduler.app.schedule_target", writes)
    ran = opskit("plan", "instance_scheduler", "--quiet")
    assert ran.status == 1
    assert (f"target failed: {ACCOUNT}/{REGION}: WriteRefused: opskit refused "
            "ec2.CreateTags") in ran.out
    assert {tag["Key"] for tag in state(running)["Tags"]} == {"Schedule"}


@pytest.mark.usefixtures("aws")
def test_the_event_and_params_are_used(opskit: Opskit) -> None:
    instance(ALWAYS, stopped=True)
    ran = opskit("plan", "instance_scheduler", "--quiet", "--param", "ScheduleTagKey=Other",
                 "--event", str(EVENTS / "instance_scheduler" / "eventbridge-rule-scheduled.json"))
    assert ran.status == 0, ran.err
    assert "nothing to do" in ran.out  # no instance carries the tag key "Other"


def test_only_scheduled_automations_have_a_plan(opskit: Opskit) -> None:
    ran = opskit("plan", "self_healing", "--region", REGION)
    assert ran.status == 2
    assert "argument automation: self_healing has no scheduled run to plan" in ran.err


def test_argument_errors_are_named(opskit: Opskit) -> None:
    ran = opskit("plan", "instance_scheduler", "--param", "DryRun=false")
    assert ran.status == 2
    assert "argument --param: DryRun=false: a plan is always a dry run" in ran.err
    ran = opskit("plan", "instance_scheduler", "--region", "europe")
    assert ran.status == 2
    assert "argument --region: 'europe' is not a region name" in ran.err
    ran = opskit("plan", "instance_scheduler", "--region", REGION, "--param", "Nope=1")
    assert ran.status == 2
    assert "argument --param: Nope is neither a parameter" in ran.err
    ran = opskit("plan", "instance_scheduler", "--region", REGION,
                 "--param", "DefaultTimezone=Mars/Olympus")
    assert ran.status == 2
    assert "argument --param: DEFAULT_TIMEZONE='Mars/Olympus' is invalid" in ran.err
    ran = opskit("plan", "instance_scheduler", "--region", REGION, "--event", "/no/such.json")
    assert ran.status == 2
    assert "argument --event: cannot read '/no/such.json'" in ran.err
    ran = opskit("plan", "instance_scheduler", "--region", REGION,
                 "--event", str(EVENTS / "instance_scheduler" / "invalid-missing-time.json"))
    assert ran.status == 2
    assert "argument --event: time=None is invalid" in ran.err
    ran = opskit("plan", "instance_scheduler", "--profile", "no-such-profile-here")
    assert ran.status == 2
    assert "argument --profile: no profile named 'no-such-profile-here'" in ran.err
