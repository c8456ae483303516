"""The notifier's environment: a moto secret, `responses` standing in for Slack and Teams."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses

from slack_notifier import app
from slack_notifier.notifier import WebhookStore
from tests.slack_notifier.helpers import (
    DEFAULT_URL,
    SECRET_NAME,
    SECURITY_URL,
    TEAMS_SECURITY_URL,
    TEAMS_URL,
    slept,
)


@pytest.fixture
def notifier_env(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # after moto's own `responses` patch, so webhook calls reach this mock first
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET", SECRET_NAME)
    monkeypatch.setenv("ROUTES", json.dumps([{"webhook": "security",
                                               "source": ["aws.guardduty"]}]))
    monkeypatch.setenv("ALARM_MENTION", "<!here>")
    monkeypatch.setenv("TEAMS_ALARM_MENTION", "On-call <oncall@example.com>")
    monkeypatch.setattr(app, "webhook_store", WebhookStore())  # a cold cache per test
    monkeypatch.setattr("slack_notifier.delivery.time.sleep", slept.append)
    slept.clear()
    responses.start()
    responses.post(DEFAULT_URL, body="ok")
    responses.post(SECURITY_URL, body="ok")
    responses.post(TEAMS_URL, status=202)
    responses.post(TEAMS_SECURITY_URL, status=202)
    yield
    responses.stop()
    responses.reset()
