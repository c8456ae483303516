"""`opskit invoke`: sample events through their handlers on an in-process moto account, with
the template's environment and a Lambda context, as `sam local invoke` would without Docker."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from opskit_cli.catalog import function_spec
from opskit_cli.local_lambda import lambda_context
from tests.cli.conftest import Opskit
from tests.conftest import ACCOUNT, EVENTS, REGION

SCHEDULER_RUN = str(EVENTS / "instance_scheduler" / "scheduler-run.json")


@pytest.mark.integration
@pytest.mark.parametrize("event", [
    "instance_scheduler/scheduler-run.json",
    "resource_cleanup/daily-cleanup.json",
    "sg_open_port_remediation/authorize-ssh-world.json",
])
def test_a_sample_event_runs_on_moto_in_dry_run(opskit: Opskit, event: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "false")  # the template's default wins over the shell
    automation = event.split("/", maxsplit=1)[0]
    ran = opskit("invoke", automation, str(EVENTS / event))
    assert ran.status == 0, ran.err
    answer = json.loads(ran.out)
    assert answer["automation"] == automation
    assert answer["dry_run"] is True
    assert answer["counts"]["done"] == 0
    assert answer["failed_targets"] == []
    assert f"report: {ACCOUNT}/{REGION}: " in ran.err  # the logs and reports: standard error
    assert os.environ["DRY_RUN"] == "false"


@pytest.mark.integration
def test_moto_can_run_live(opskit: Opskit) -> None:
    for argv in (["--live"], ["--param", "DryRun=false"], ["--moto", "--live"]):
        ran = opskit("invoke", "instance_scheduler", SCHEDULER_RUN, *argv)
        assert ran.status == 0, ran.err
        assert json.loads(ran.out)["dry_run"] is False


@pytest.mark.integration
def test_an_event_the_handler_refuses_is_lambdas_error_answer(opskit: Opskit) -> None:
    ran = opskit("invoke", "instance_scheduler",
                 str(EVENTS / "instance_scheduler" / "invalid-missing-time.json"))
    assert ran.status == 1
    answer = json.loads(ran.out)
    assert answer["errorType"] == "EventError"
    assert answer["errorMessage"].startswith("time=None is invalid")


def test_a_real_account_changes_only_with_live(opskit: Opskit) -> None:
    ran = opskit("invoke", "instance_scheduler", SCHEDULER_RUN, "--profile", "prod",
                 "--param", "DryRun=false")
    assert ran.status == 2
    assert "argument --live: DryRun=false against a real account needs --live" in ran.err


def test_argument_errors_are_named(opskit: Opskit, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    ran = opskit("invoke", "instance_scheduler", str(missing))
    assert ran.status == 2
    assert f"argument event: cannot read '{missing}'" in ran.err
    text = tmp_path / "event.json"
    text.write_text("not json")
    ran = opskit("invoke", "instance_scheduler", str(text))
    assert ran.status == 2
    assert f"argument event: '{text}' is not JSON" in ran.err
    text.write_text("[1, 2]")
    ran = opskit("invoke", "instance_scheduler", str(text))
    assert ran.status == 2
    assert "holds list, expected a JSON object" in ran.err
    ran = opskit("invoke", "instance_scheduler", SCHEDULER_RUN, "--param", "Nope=1")
    assert ran.status == 2
    assert "argument --param: Nope is neither a parameter of instance_scheduler's template" \
        in ran.err
    ran = opskit("invoke", "instance_scheduler", SCHEDULER_RUN, "--moto", "--profile", "x")
    assert ran.status == 2
    assert "argument --profile: not allowed with argument --moto" in ran.err
    ran = opskit("invoke", "instance_scheduler", SCHEDULER_RUN, "--live",
                 "--param", "DryRun=true")
    assert ran.status == 2
    assert "argument --live: --live and --param DryRun=true contradict each other" in ran.err


def test_the_environment_is_the_templates() -> None:
    spec = function_spec("instance_scheduler", region=REGION,
                         overrides={"DefaultTimezone": "Europe/Paris", "LOG_LEVEL": "DEBUG"})
    assert spec.environment["DRY_RUN"] == "true"
    assert spec.environment["DEFAULT_TIMEZONE"] == "Europe/Paris"
    assert spec.environment["LOG_LEVEL"] == "DEBUG"
    assert spec.environment["POWERTOOLS_SERVICE_NAME"] == "instance_scheduler"
    # The stack's own topic and queue do not exist outside it: left out, as events/env.json does.
    assert spec.environment["ALERT_TOPIC_ARN"] is None
    assert spec.environment["DISPATCH_QUEUE_URL"] == ""
    assert spec.timeout_seconds == 300
    backup = function_spec("rds_backup", region=REGION)
    assert backup.environment["EXPORT_BUCKET"] is None
    assert backup.timeout_seconds == 900


def test_the_lambda_context_counts_down_from_the_timeout() -> None:
    context = lambda_context("instance_scheduler", region=REGION, account=ACCOUNT,
                             timeout_seconds=300, memory_mb=256)
    assert 299_000 < context.get_remaining_time_in_millis() <= 300_000
    assert context.invoked_function_arn == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:opskit-instance-scheduler")
    context.started -= 400
    assert context.get_remaining_time_in_millis() == 0
