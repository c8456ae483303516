"""The handler kit every automation's lambda_handler is built with."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from opskit.config import CommonConfig
from opskit.events import EventError
from opskit.handler import Invocation, Skip, Trigger, automation, read_once
from tests.conftest import FakeLambdaContext

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
AUTOMATIONS = sorted(p.parent.name for p in FUNCTIONS.glob("*/app.py"))


@pytest.mark.parametrize("name", AUTOMATIONS)
def test_every_automation_is_built_with_the_kit(name: str) -> None:
    handler = importlib.import_module(f"{name}.app").lambda_handler
    assert handler.opskit_triggers  # set by opskit.handler.automation, kept by every wrapper


def _config(loads: list[int]) -> CommonConfig:
    loads.append(1)
    return CommonConfig.from_env("kit_test", {"AWS_REGION": "eu-west-1"})


def test_configuration_is_read_once_per_container(monkeypatch: pytest.MonkeyPatch,
                                                  lambda_context: FakeLambdaContext) -> None:
    loads: list[int] = []
    seen: list[Invocation[CommonConfig]] = []

    @automation("kit_test", config=lambda: _config(loads), triggers={Trigger.ROTATION})
    def handler(run: Invocation[CommonConfig]) -> dict[str, Any]:
        seen.append(run)
        return {"ok": True}

    for n in range(3):  # as on Lambda: the runtime sets a new trace id for each invocation
        monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root=1-67890abc-{n:024d}")
        assert handler({"Step": "createSecret"}, lambda_context) == {"ok": True}
    assert len(loads) == 1
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")  # the environment changed: read again
    handler({"Step": "createSecret"}, lambda_context)
    assert len(loads) == 2
    assert seen[-1].trigger is Trigger.ROTATION
    assert seen[-1].common is seen[-1].config


def test_read_once_keeps_one_environment() -> None:
    first = read_once("a", object)
    assert read_once("a", object) is first
    assert read_once("b", object) is not first


@pytest.mark.parametrize(("event", "trigger"), [
    ({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": {}},
     Trigger.API_CALL),
    ({"detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch"},
     Trigger.ALARM),
    ({"Step": "setSecret", "SecretId": "arn", "ClientRequestToken": "t"}, Trigger.ROTATION),
    ({"awslogs": {"data": "H4sI"}}, Trigger.LOGS),
])
def test_the_trigger_is_read_from_the_event(event: dict[str, Any], trigger: Trigger,
                                            lambda_context: FakeLambdaContext) -> None:
    @automation("kit_test", config=lambda: _config([]), triggers=set(Trigger) - {
        Trigger.MESSAGES, Trigger.SCHEDULE})
    def handler(run: Invocation[CommonConfig]) -> dict[str, Any]:
        return {"trigger": run.trigger}

    assert handler(event, lambda_context) == {"trigger": trigger}


def test_an_event_no_declared_trigger_sends_is_refused(lambda_context: FakeLambdaContext
                                                       ) -> None:
    @automation("kit_test", config=lambda: _config([]), triggers={Trigger.API_CALL,
                                                                 Trigger.ALARM})
    def handler(run: Invocation[CommonConfig]) -> dict[str, Any]:
        raise AssertionError("never reached")

    with pytest.raises(EventError, match="detail-type='GuardDuty Finding' is invalid: expected "
                                         "alarm or api-call"):
        handler({"detail-type": "GuardDuty Finding", "source": "aws.guardduty"},
                lambda_context)


def test_a_scheduled_run_gets_the_lambdas_clock_and_others_have_none(
        lambda_context: FakeLambdaContext) -> None:
    runs: list[Invocation[CommonConfig]] = []

    @automation("kit_test", config=lambda: _config([]), triggers={Trigger.SCHEDULE,
                                                                 Trigger.API_CALL})
    def handler(run: Invocation[CommonConfig]) -> dict[str, Any]:
        runs.append(run)
        return {}

    handler({"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3"}, lambda_context)
    with pytest.raises(TypeError, match="api-call invocation has no scheduled time"):
        _ = runs[0].now
    with pytest.raises(EventError, match="expected a scheduled run"):
        handler({"detail-type": "Object Created", "source": "aws.s3"}, lambda_context)


def test_a_logs_delivery_may_be_larger_than_other_events(lambda_context: FakeLambdaContext
                                                        ) -> None:
    """A subscription sends up to 1 MB of gzip (opskit/logs_payload.py); other events, and a
    delivery with anything besides `awslogs`, stop at 256 KB."""
    @automation("kit_test", config=lambda: _config([]), triggers={Trigger.LOGS,
                                                                 Trigger.SCHEDULE})
    def handler(run: Invocation[CommonConfig]) -> dict[str, Any]:
        return {"trigger": run.trigger}

    delivery = {"awslogs": {"data": "A" * 1_000_000}}
    assert handler(delivery, lambda_context) == {"trigger": Trigger.LOGS}
    with pytest.raises(EventError, match="expected at most 1450000 bytes"):
        handler({"awslogs": {"data": "A" * 1_500_000}}, lambda_context)
    with pytest.raises(EventError, match="expected at most 262144 bytes"):
        handler({**delivery, "extra": 1}, lambda_context)
    with pytest.raises(EventError, match="expected a scheduled run"):
        handler({"detail-type": "Object Created", "source": "aws.s3"}, lambda_context)


def test_skip_is_the_same_reply_for_every_automation(lambda_context: FakeLambdaContext) -> None:
    @automation("kit_test", config=lambda: _config([]), triggers={Trigger.API_CALL})
    def handler(run: Invocation[CommonConfig]) -> dict[str, Any]:
        raise Skip("a read-only call", {"event_name": "DescribeInstances"})

    assert handler({"detail-type": "AWS API Call via CloudTrail"}, lambda_context) == {
        "automation": "kit_test", "dry_run": True,
        "counts": {"done": 0, "planned": 0, "skipped": 0, "failed": 0},
        "skipped": "a read-only call"}
