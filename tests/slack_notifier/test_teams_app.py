"""Microsoft Teams destinations end to end: the same secret, routes, retries and mention."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from opskit.config import ConfigError
from slack_notifier import app
from slack_notifier.delivery import WebhookError
from slack_notifier.settings import NotifierConfig
from tests.conftest import FakeLambdaContext
from tests.slack_notifier.helpers import (
    ALARM,
    DEFAULT_URL,
    GUARDDUTY,
    SECURITY_URL,
    TEAMS_URL,
    create_webhook_secret,
    sent,
    slept,
    sns_envelope,
    sqs_event,
)

pytestmark = pytest.mark.usefixtures("notifier_env")

POWER_PLATFORM_URL = (
    "https://default0a1b2c3d4e5f46a7b8c9d0e1f2a3b4.c5.environment.api.powerplatform.com:443/"
    "powerautomate/automations/direct/workflows/9d8c7b6a5f4e4d3c2b1a0f9e8d7c6b5a/triggers/manual"
    "/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=powerplatformsig")


def card(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = attachment["content"]
    assert content["type"] == "AdaptiveCard"
    return content


def test_one_secret_holds_slack_and_teams_and_routes_pick_either(
        lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret({"default": TEAMS_URL, "security": SECURITY_URL})
    event = sqs_event(sns_envelope(ALARM), sns_envelope(GUARDDUTY), sns_envelope("hello"))
    assert app.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    (alarm_url, alarm), (guard_url, guard), (text_url, text) = sent()
    assert (alarm_url, guard_url, text_url) == (TEAMS_URL, SECURITY_URL, TEAMS_URL)
    assert guard["text"] == "<!here> GuardDuty: Port probe"  # Slack keeps its own mention
    alarm_card = card(alarm)
    assert alarm_card["msteams"]["entities"] == [{
        "type": "mention", "text": "<at>On-call</at>",
        "mentioned": {"id": "oncall@example.com", "name": "On-call"}}]
    assert "entities" not in card(text).get("msteams", {})  # info: no mention
    assert "ALARM: orders-api-5xx" in json.dumps(alarm_card)
    assert open_urls(alarm_card) == [
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#alarmsV2:alarm/orders-api-5xx"]


def open_urls(node: Any) -> list[str]:
    """Every Action.OpenUrl's URL in the card, wherever it sits."""
    if isinstance(node, list):
        return [url for item in node for url in open_urls(item)]
    if isinstance(node, dict):
        own = [node["url"]] if node.get("type") == "Action.OpenUrl" else []
        return own + [url for value in node.values() for url in open_urls(value)]
    return []


def test_a_power_platform_workflow_url_and_an_explicit_format(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    relay = "https://alerts-relay.example.com/teams/ops"
    monkeypatch.setenv("TEAMS_WEBHOOK_HOSTS", "*.environment.api.powerplatform.com,"
                                              "alerts-relay.example.com")
    responses.post(POWER_PLATFORM_URL, status=202)
    responses.post(relay, status=202)
    create_webhook_secret({"default": POWER_PLATFORM_URL,
                           "security": {"url": relay, "format": "teams"}})
    event = sqs_event(sns_envelope(ALARM), sns_envelope(GUARDDUTY))
    assert app.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert [url for url, _ in sent()] == [POWER_PLATFORM_URL, relay]
    assert all(card(payload) for _, payload in sent())


def test_teams_retries_like_slack(lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret({"default": TEAMS_URL, "security": TEAMS_URL})
    responses.replace(responses.POST, TEAMS_URL, status=429, headers={"Retry-After": "3"})
    responses.add(responses.POST, TEAMS_URL, status=502)
    responses.add(responses.POST, TEAMS_URL, status=202)
    assert app.lambda_handler(sqs_event(sns_envelope(ALARM)), lambda_context) == {
        "batchItemFailures": []}
    assert len(sent()) == 3
    assert slept == [3.0, 1.0]


def test_a_deleted_workflow_fails_and_never_shows_its_signature(
        lambda_context: FakeLambdaContext, capsys: pytest.CaptureFixture[str]) -> None:
    create_webhook_secret({"default": TEAMS_URL, "security": SECURITY_URL})
    responses.replace(responses.POST, TEAMS_URL, status=404, body=json.dumps({
        "error": {"code": "WorkflowNotFound", "message": f"not found: {TEAMS_URL}"}}))
    with pytest.raises(app.DeliveryFailedError) as info:
        app.lambda_handler(sqs_event(sns_envelope(ALARM), sns_envelope("hello")),
                           lambda_context)
    assert "WorkflowNotFound" in str(info.value)
    assert "teamssignaturevalue" not in str(info.value) + capsys.readouterr().out
    assert len(sent()) == 1


@pytest.mark.parametrize(("secret", "message"), [
    ({"default": "https://evil.example.com/workflows/x"},
     "webhook 'default' is not an https URL on *.environment.api.powerplatform.com, "
     "*.logic.azure.com, hooks.slack.com"),
    ({"default": DEFAULT_URL, "security": {"url": TEAMS_URL, "format": "slack"}},
     "webhook 'security' is not an https URL on hooks.slack.com"),
    ({"default": DEFAULT_URL, "security": {"url": TEAMS_URL, "format": "email"}},
     "webhook 'security' must be a URL or an object with \"url\" and \"format\""),
    ({"default": DEFAULT_URL, "security": ["x"]}, "webhook 'security' must be a URL"),
    ({"default": "http://prod-1.westeurope.logic.azure.com/workflows/x"},
     "webhook 'default' is not an https URL")])
def test_a_bad_destination_fails_before_anything_is_posted(
        secret: dict[str, Any], message: str, lambda_context: FakeLambdaContext) -> None:
    create_webhook_secret(secret)
    with pytest.raises(WebhookError) as info:
        app.lambda_handler(sqs_event(sns_envelope("hello")), lambda_context)
    assert str(info.value).startswith(message)
    assert "sig=" not in str(info.value)
    assert sent() == []


def test_a_host_allowed_for_both_formats_needs_its_format(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_HOSTS", "hooks.slack.com,relay.example.com")
    monkeypatch.setenv("TEAMS_WEBHOOK_HOSTS", "relay.example.com")
    create_webhook_secret({"default": DEFAULT_URL, "security": "https://relay.example.com/x"})
    with pytest.raises(WebhookError, match="allowed for both formats: give its format"):
        app.lambda_handler(sqs_event(sns_envelope("hello")), lambda_context)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("TEAMS_ALARM_MENTION", "oncall@example.com", "a display name and the user's UPN"),
    ("TEAMS_ALARM_MENTION", "<at>x</at> <y>", "a display name and the user's UPN"),
    ("TEAMS_WEBHOOK_HOSTS", "https://prod.logic.azure.com", "comma-separated host names"),
    ("WEBHOOK_HOSTS", "*", "comma-separated host names")])
def test_bad_teams_settings_name_the_variable(name: str, value: str, expected: str) -> None:
    environ = {"SLACK_WEBHOOK_SECRET": "s", name: value}
    with pytest.raises(ConfigError) as info:
        NotifierConfig.from_env(environ)
    assert str(info.value).startswith(f"{name}={value!r} is invalid: expected {expected}")


def test_the_teams_mention_is_read() -> None:
    object_id = "1f2e3d4c-0000-4000-8000-00000000abcd"
    config = NotifierConfig.from_env({"SLACK_WEBHOOK_SECRET": "s",
                                      "TEAMS_ALARM_MENTION": f" Platform on-call <{object_id}> "})
    assert config.teams_mention is not None
    assert (config.teams_mention.name, config.teams_mention.id) == (
        "Platform on-call", object_id)


def test_list_lines_keep_their_marks_in_teams_as_in_slack() -> None:
    """Slack shows `:x:` as an emoji: so does Teams, whatever the notice's source."""
    from slack_notifier.notice import Notice
    from slack_notifier.teams_message import to_teams

    notice = Notice("aws.codepipeline", "critical", "Pipeline orders FAILED",
                    lines=(":x: DeployProd: timed out", "plain line :x: stays"))
    runs = json.dumps(to_teams(notice), ensure_ascii=False)
    assert "❌ DeployProd: timed out" in runs
    assert "plain line :x: stays" in runs
