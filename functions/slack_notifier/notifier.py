"""Render, route and deliver one notice; destinations come from a secret, cached with a TTL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

from opskit.observability import logger
from slack_notifier.delivery import DeliveryError, Poster
from slack_notifier.destinations import Destination, parse_destinations
from slack_notifier.notice import Notice
from slack_notifier.renderers import Incoming, render
from slack_notifier.routing import choose_webhook
from slack_notifier.settings import NotifierConfig
from slack_notifier.slack_message import to_slack
from slack_notifier.teams_message import to_teams


class WebhookStore:
    """Reads the webhook secret through Powertools parameters (cached for max_age seconds)."""

    def __init__(self) -> None:
        self._secrets: SecretsProvider | None = None
        self._ssm: SSMProvider | None = None

    def load(self, config: NotifierConfig) -> dict[str, Destination]:
        if config.webhook_secret_name is not None:
            self._secrets = self._secrets or SecretsProvider()
            value = self._secrets.get(config.webhook_secret_name,
                                      max_age=config.secret_max_age_seconds)
        else:
            self._ssm = self._ssm or SSMProvider()
            value = self._ssm.get(config.webhook_parameter_name or "", decrypt=True,
                                  max_age=config.secret_max_age_seconds)
        return parse_destinations(value, config)


@dataclass
class Notifier:
    """One invocation's sender. A destination that failed for good (gone, refused, or still
    failing after every retry) is not tried again by the same invocation: its other notices
    fail at once and go back to the queue."""

    config: NotifierConfig
    destinations: Mapping[str, Destination]
    poster: Poster
    down: dict[str, str] = field(default_factory=dict)

    def payload(self, notice: Notice, destination: Destination) -> dict[str, Any]:
        critical = notice.severity == "critical"
        if destination.format == "teams":
            return to_teams(notice, mention=self.config.teams_mention if critical else None)
        return to_slack(notice, mention=self.config.mention if critical else None)

    def send(self, incoming: Incoming) -> dict[str, Any]:
        notice = render(incoming)
        webhook = choose_webhook(notice, self.config.routes)
        if webhook in self.down:
            raise DeliveryError(f"webhook {webhook!r} not tried: it failed earlier in this "
                                f"invocation ({self.down[webhook]})")
        destination = self.destinations[webhook]
        try:
            attempts = self.poster.post(webhook, destination.url,
                                        self.payload(notice, destination))
        except DeliveryError as exc:
            if exc.destination_down:
                self.down[webhook] = str(exc)
            raise
        logger.info("notice delivered", extra={"source": notice.source, "title": notice.title,
                                               "severity": notice.severity, "webhook": webhook,
                                               "format": destination.format,
                                               "attempts": attempts})
        return {"source": notice.source, "severity": notice.severity, "webhook": webhook}
