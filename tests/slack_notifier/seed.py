"""What the sample events need: the webhook secret, the notifier's settings and a fake Slack."""

from __future__ import annotations

import contextlib
import os
from unittest import mock

import responses

from slack_notifier import app
from slack_notifier.delivery import WebhookSession
from slack_notifier.notifier import WebhookStore
from tests.slack_notifier.helpers import (
    DEFAULT_URL,
    SECRET_NAME,
    SECURITY_URL,
    create_webhook_secret,
    post_through_requests,
)

ROUTES = '[{"webhook": "security", "source": ["aws.guardduty"]}]'


def seed(event_name: str) -> contextlib.ExitStack:
    """Call inside moto; the returned stack, entered around the handler, fakes Slack."""
    create_webhook_secret()
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.dict(os.environ, {
        "SLACK_WEBHOOK_SECRET": SECRET_NAME, "ROUTES": ROUTES, "ALARM_MENTION": "<!here>"}))
    stack.enter_context(mock.patch.object(app, "webhook_store", WebhookStore()))
    # outside pytest too (bench/cost_model.py measures the sample): what the tests' fixture does
    stack.enter_context(mock.patch.object(WebhookSession, "post", post_through_requests()))
    slack = stack.enter_context(responses.RequestsMock(assert_all_requests_are_fired=False))
    slack.post(DEFAULT_URL, body="ok")
    slack.post(SECURITY_URL, body="ok")
    return stack
