"""Every handler against a corpus of bad input: a clear error naming the field, or a logged skip;
never an unexpected exception, never a write to AWS."""

from __future__ import annotations

import copy
import importlib
import importlib.util
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest

from tests.conftest import ApiCalls, FakeLambdaContext, load_event

# Each automation's representative good event (the corpus mutates it).
GOOD = {
    "instance_scheduler": "instance_scheduler/scheduler-run.json",
    "auto_tagger": "auto_tagger/ec2-run-instances.json",
    "s3_public_remediation": "s3_public_remediation/put-bucket-policy-public.json",
    "sg_open_port_remediation": "sg_open_port_remediation/authorize-ssh-world.json",
    "rds_backup": "rds_backup/nightly-backup.json",
    "access_key_rotation": "access_key_rotation/create-secret.json",
    "access_key_auditor": "access_key_auditor/daily-audit.json",
    "resource_cleanup": "resource_cleanup/daily-cleanup.json",
    "self_healing": "self_healing/ec2-cpu-alarm.json",
    "slack_notifier": "slack_notifier/sqs-alarm-metric.json",
}
HOSTILE = "x'; DROP TABLE--<script>\u202e\u0000" + "\U0001f525" * 3
READS = ("Describe", "List", "Get", "Generate", "Publish", "ReceiveMessage", "Lookup")


def _set(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    event = copy.deepcopy(event)
    target = event
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target.get(key), dict) else {}
    target[path[-1]] = value
    return event


def _hostile(value: Any, key: str = "") -> Any:
    """Every string of the payload that names something becomes hostile (the event's kind and
    times stay, so the handler gets as far as the identifiers)."""
    keep = {"detail-type", "source", "version", "time", "eventName", "eventSource", "eventTime",
            "eventID", "Step", "eventSourceARN", "awsRegion", "region", "account",
            "recipientAccountId", "value", "mode", "id", "messageId", "receiptHandle"}
    if isinstance(value, dict):
        return {k: _hostile(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_hostile(v, key) for v in value]
    if isinstance(value, str) and key not in keep:
        return HOSTILE
    return value


def corpus(good: dict[str, Any]) -> dict[str, Any]:
    """Name -> bad event, derived from a good one."""
    first_key = next(iter(good))
    cases: dict[str, Any] = {
        "empty": {},
        "not-an-object": ["not", "an", "event"],
        "wrong-type-s3-notification": {"Records": [{"eventSource": "aws:s3",
                                                    "s3": {"bucket": {"name": "b"}}}]},
        "detail-is-a-string": _set(good, ("detail",), "oops"),
        "detail-is-a-list": _set(good, ("detail",), [1, 2]),
        "time-is-a-number": _set(good, ("time",), 1732356000),
        "truncated": {k: v for k, v in list(good.items())[: max(1, len(good) // 2)]},
        "null-first-field": _set(good, (first_key,), None),
        "huge-detail": _set(good, ("detail", "padding"), "A" * 300_000),
        "hostile-strings": _hostile(good),
    }
    if "Records" in good:
        cases["record-body-not-json"] = _set(good, ("Records",), [
            {**good["Records"][0], "body": '{"truncated": '}])
        cases["records-not-a-list"] = _set(good, ("Records",), "nope")
    if "Step" in good:
        cases["hostile-secret-id"] = {**good, "SecretId": HOSTILE}
        cases["step-wrong-type"] = {**good, "Step": ["createSecret"]}
    return cases


CASES = [(automation, name, event) for automation, path in GOOD.items()
         for name, event in corpus(load_event(path)).items()]


def _around(automation: str) -> AbstractContextManager[Any]:
    if importlib.util.find_spec(f"tests.{automation}.seed") is None:
        return nullcontext()
    module = importlib.import_module(f"tests.{automation}.seed")
    if automation == "slack_notifier":
        return module.seed("bad-input") or nullcontext()  # type: ignore[no-any-return]
    return nullcontext()


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "false")  # the worst case: writes would really happen


def _call(handler: Any, event: Any, context: FakeLambdaContext) -> tuple[Any, Exception | None]:
    try:
        return handler(event, context), None
    except Exception as exc:
        return None, exc


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("automation", "case", "event"), CASES,
                         ids=[f"{a}/{c}" for a, c, _ in CASES])
def test_bad_input_is_refused_clearly_and_changes_nothing(
        automation: str, case: str, event: Any, lambda_context: FakeLambdaContext,
        api_calls: ApiCalls) -> None:
    handler = importlib.import_module(f"{automation}.app").lambda_handler
    with _around(automation):
        api_calls.reset()
        result, error = _call(handler, event, lambda_context)
    if error is not None:
        # A clear refusal: EventError/ConfigError name the field and value ("name=value is
        # invalid"); the rotation protocol's RotationError names the secret.
        clear = isinstance(error, ValueError) or type(error).__name__ == "RotationError"
        assert clear, f"{type(error).__name__} escaped: {error}"
        assert "=" in str(error) or "secret" in str(error), str(error)
    writes = [op for (_, op) in api_calls.counts if not op.startswith(READS)]
    assert writes == [], writes
    if isinstance(result, dict) and "counts" in result:
        assert result["counts"]["done"] == 0
