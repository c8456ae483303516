"""The handler end to end: moto secret, `responses` for Slack, SQS partial batch failures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import responses

from slack_notifier import app
from slack_notifier.delivery import WebhookError
from tests.conftest import EVENTS, ApiCalls, FakeLambdaContext, load_event
from tests.slack_notifier.helpers import (
    ALARM,
    DEFAULT_URL,
    GUARDDUTY,
    SECURITY_URL,
    TEAMS_SECURITY_URL,
    TEAMS_URL,
    create_webhook_secret,
    sent,
    slept,
    sns_envelope,
    sqs_event,
)

pytestmark = pytest.mark.usefixtures("notifier_env")


def test_batch_renders_routes_and_mentions(lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret()
    event = sqs_event(sns_envelope(ALARM, 'ALARM: "orders-api-5xx" in EU (Ireland)'),
                      sns_envelope(GUARDDUTY), '{"truncated": ')
    result = app.lambda_handler(event, lambda_context)
    assert result == {"batchItemFailures": []}
    (alarm_url, alarm), (guard_url, guard), (text_url, text) = sent()
    assert alarm_url == DEFAULT_URL
    assert alarm["text"] == "<!here> ALARM: orders-api-5xx"
    assert guard_url == SECURITY_URL
    assert guard["text"] == "<!here> GuardDuty: Port probe"  # every critical notice mentions
    assert text_url == DEFAULT_URL
    assert text["attachments"][0]["blocks"][1]["text"]["text"] == '{"truncated": '


def test_one_failing_record_does_not_drop_the_batch(lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret({"default": DEFAULT_URL, "security": SECURITY_URL})
    responses.replace(responses.POST, SECURITY_URL, status=404, body="no_service")
    result = app.lambda_handler(sqs_event(sns_envelope(ALARM), sns_envelope(GUARDDUTY)),
                                lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    assert [url for url, _ in sent()] == [DEFAULT_URL, SECURITY_URL]


def test_secret_is_cached_between_invocations(lambda_context: FakeLambdaContext,
                                              api_calls: ApiCalls) -> None:
    create_webhook_secret()
    for _ in range(3):
        app.lambda_handler(sqs_event(sns_envelope("hello")), lambda_context)
    assert api_calls.of("secretsmanager", "GetSecretValue") == 1
    assert len(sent()) == 3


def test_webhook_never_appears_in_logs(lambda_context: FakeLambdaContext,
                                       capsys: pytest.CaptureFixture[str],
                                       caplog: pytest.LogCaptureFixture) -> None:
    create_webhook_secret()
    app.lambda_handler(sqs_event(sns_envelope(ALARM)), lambda_context)
    responses.replace(responses.POST, DEFAULT_URL, status=500)
    with pytest.raises(app.DeliveryFailedError) as info:
        app.lambda_handler(GUARDDUTY | {"detail-type": "AWS Health Event",
                                        "source": "aws.health"}, lambda_context)
    output = capsys.readouterr().out + caplog.text + str(info.value)
    assert "delivery attempt failed" in output
    assert slept == [0.5, 1.0, 2.0, 4.0]
    for secret in ("defaultsecretvalue", "securitysecretvalue", "hooks.slack.com/services"):
        assert secret not in output


def test_direct_eventbridge_event_is_delivered(lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret()
    result = app.lambda_handler(GUARDDUTY, lambda_context)
    assert result == {"delivered": [{"source": "aws.guardduty", "severity": "critical",
                                     "webhook": "security"}]}


@pytest.mark.parametrize(
    ("secret", "message"),
    [("http://hooks.slack.com/services/x", "webhook 'default' is not an https URL"),
     ({"security": SECURITY_URL}, "the webhook secret has no 'default' webhook"),
     ({"default": DEFAULT_URL}, "ROUTES names webhooks the secret lacks: security"),
     ("{not json", "the webhook secret is not valid JSON")],
)
def test_bad_webhook_secret_fails_clearly(secret: str | dict[str, str], message: str,
                                          lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret(secret)
    with pytest.raises(WebhookError, match=message):
        app.lambda_handler(sqs_event(sns_envelope("hello")), lambda_context)
    assert sent() == []


# ---------------------------------------------------------------- golden files
SAMPLES = sorted(EVENTS.glob("slack_notifier/*.json"))
# Each sample is rendered twice: to Slack webhooks, and to Teams ones.
DESTINATIONS = {"golden": {"default": DEFAULT_URL, "security": SECURITY_URL},
                "golden_teams": {"default": TEAMS_URL, "security": TEAMS_SECURITY_URL}}


@pytest.mark.parametrize("folder", DESTINATIONS)
@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_renders_as_its_golden_file(path: Path, folder: str,
                                           lambda_context: FakeLambdaContext) -> None:
    """Every sample's payloads, reviewed once and kept; UPDATE_GOLDEN=1 rewrites them."""
    create_webhook_secret(DESTINATIONS[folder])
    names = {url: name for name, url in DESTINATIONS[folder].items()}
    result = app.lambda_handler(load_event(f"slack_notifier/{path.name}"), lambda_context)
    assert result.get("batchItemFailures") == [] or result.get("delivered")
    rendered = [{"webhook": names[url], "payload": payload} for url, payload in sent()]
    golden = Path(__file__).parent / folder / path.name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n")
    assert rendered == json.loads(golden.read_text())


def test_webhook_from_ssm_securestring(lambda_context: FakeLambdaContext,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    boto3.client("ssm").put_parameter(Name="/opskit/slack-webhook", Type="SecureString",
                                      Value=DEFAULT_URL)
    monkeypatch.delenv("SLACK_WEBHOOK_SECRET")
    monkeypatch.delenv("ROUTES")
    monkeypatch.setenv("SLACK_WEBHOOK_PARAMETER", "/opskit/slack-webhook")
    result = app.lambda_handler(sqs_event(sns_envelope("hello")), lambda_context)
    assert result == {"batchItemFailures": []}
    assert [url for url, _ in sent()] == [DEFAULT_URL]


def test_exactly_one_webhook_source_is_required(lambda_context: FakeLambdaContext,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_PARAMETER", "/opskit/slack-webhook")
    with pytest.raises(ValueError, match="SLACK_WEBHOOK_SECRET='opskit/slack-webhooks' is "
                                         "invalid: expected exactly one of"):
        app.lambda_handler(sqs_event(sns_envelope("hello")), lambda_context)

