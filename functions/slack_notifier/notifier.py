"""Render, route and deliver one notice; destinations come from a secret, cached with a TTL."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opskit.aws import ReusingSession, new_session
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
    """Reads the webhook secret (Secrets Manager) or SecureString parameter (SSM), kept for
    `SECRET_MAX_AGE_SECONDS` across warm invocations: one read per container and period, not
    one per message. A failed read is not cached."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._session: ReusingSession | None = None
        self._cached: dict[tuple[str, str], tuple[float, str]] = {}

    def _client(self, service: str, region: str) -> Any:
        # One session for the container; it makes each client once (opskit.aws.ReusingSession).
        if self._session is None:
            self._session = new_session(region)
        return self._session.client(service, region_name=region)  # type: ignore[call-overload]

    def _read(self, config: NotifierConfig) -> str:
        if config.webhook_secret_name is not None:
            answer = self._client("secretsmanager", config.region).get_secret_value(
                SecretId=config.webhook_secret_name)
            return str(answer["SecretString"])
        answer = self._client("ssm", config.region).get_parameter(
            Name=config.webhook_parameter_name or "", WithDecryption=True)
        return str(answer["Parameter"]["Value"])

    def load(self, config: NotifierConfig) -> dict[str, Destination]:
        key = (config.webhook_secret_name or "", config.webhook_parameter_name or "")
        now = self._clock()
        cached = self._cached.get(key)
        if cached is None or now - cached[0] >= config.secret_max_age_seconds:
            cached = (now, self._read(config))
            self._cached[key] = cached
        return parse_destinations(cached[1], config)


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
