"""Render, route and deliver one message; webhooks come from a secret, cached with a TTL."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

from opskit.observability import logger
from slack_notifier.delivery import Poster, WebhookError, check_webhook
from slack_notifier.renderers import Incoming, render
from slack_notifier.routing import DEFAULT_WEBHOOK, choose_webhook
from slack_notifier.settings import NotifierConfig
from slack_notifier.slack_message import to_slack


def parse_webhooks(value: Any, config: NotifierConfig) -> dict[str, str]:
    """The secret holds one URL, or a JSON object of webhook name -> URL with a `default`."""
    if isinstance(value, bytes):
        value = value.decode()
    text = str(value).strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise WebhookError("the webhook secret is not valid JSON") from None
        if not isinstance(parsed, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
            raise WebhookError("the webhook secret must map webhook names to URLs")
        webhooks = parsed
    else:
        webhooks = {DEFAULT_WEBHOOK: text}
    checked = {name: check_webhook(name, url, config.allowed_hosts)
               for name, url in webhooks.items()}
    if DEFAULT_WEBHOOK not in checked:
        raise WebhookError(f"the webhook secret has no {DEFAULT_WEBHOOK!r} webhook")
    missing = {route.webhook for route in config.routes} - set(checked)
    if missing:
        raise WebhookError(f"ROUTES names webhooks the secret lacks: {', '.join(sorted(missing))}")
    return checked


class WebhookStore:
    """Reads the webhook secret through Powertools parameters (cached for max_age seconds)."""

    def __init__(self) -> None:
        self._secrets: SecretsProvider | None = None
        self._ssm: SSMProvider | None = None

    def load(self, config: NotifierConfig) -> dict[str, str]:
        if config.webhook_secret_name is not None:
            self._secrets = self._secrets or SecretsProvider()
            value = self._secrets.get(config.webhook_secret_name,
                                      max_age=config.secret_max_age_seconds)
        else:
            self._ssm = self._ssm or SSMProvider()
            value = self._ssm.get(config.webhook_parameter_name or "", decrypt=True,
                                  max_age=config.secret_max_age_seconds)
        return parse_webhooks(value, config)


@dataclass
class Notifier:
    config: NotifierConfig
    webhooks: Mapping[str, str]
    poster: Poster

    def send(self, incoming: Incoming) -> dict[str, Any]:
        notice = render(incoming)
        webhook = choose_webhook(notice, self.config.routes)
        mention = self.config.mention if notice.severity == "critical" else None
        payload = to_slack(notice, mention=mention)
        attempts = self.poster.post(webhook, self.webhooks[webhook], payload)
        logger.info("notice delivered", extra={"source": notice.source, "title": notice.title,
                                               "severity": notice.severity, "webhook": webhook,
                                               "attempts": attempts})
        return {"source": notice.source, "severity": notice.severity, "webhook": webhook}
