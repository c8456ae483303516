"""Where notices go: the named webhooks of the secret, each a Slack or a Microsoft Teams one.

The secret holds one URL (the `default` destination) or a JSON object of names to
destinations. A destination is a URL, whose host says which format it takes, or an object
`{"url": ..., "format": "slack" | "teams"}` for a host that is allowed for that format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from slack_notifier.delivery import WebhookError, check_webhook, host_allowed
from slack_notifier.routing import DEFAULT_WEBHOOK
from slack_notifier.settings import NotifierConfig

Format = Literal["slack", "teams"]
FORMATS: tuple[Format, ...] = get_args(Format)


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    format: Format
    url: str = field(repr=False)  # a credential: never logged, never in an error


def _hosts(config: NotifierConfig, fmt: Format) -> frozenset[str]:
    return config.slack_hosts if fmt == "slack" else config.teams_hosts


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _destination(name: str, value: Any, config: NotifierConfig) -> Destination:
    if isinstance(value, str):
        host = _host(value)
        formats = [fmt for fmt in FORMATS if host and host_allowed(host, _hosts(config, fmt))]
        if len(formats) != 1:
            hosts = ", ".join(sorted(config.slack_hosts | config.teams_hosts))
            both = " (its host is allowed for both formats: give its format)" if formats else ""
            raise WebhookError(f"webhook {name!r} is not an https URL on {hosts}{both}")
        fmt = formats[0]
        return Destination(name, fmt, check_webhook(name, value, _hosts(config, fmt)))
    if isinstance(value, dict) and set(value) == {"url", "format"} and isinstance(
            value["url"], str) and value["format"] in FORMATS:
        fmt = value["format"]
        return Destination(name, fmt, check_webhook(name, value["url"], _hosts(config, fmt)))
    raise WebhookError(f"webhook {name!r} must be a URL or an object with \"url\" and "
                       f"\"format\" ({' or '.join(FORMATS)})")


def parse_destinations(value: Any, config: NotifierConfig) -> dict[str, Destination]:
    """The secret's value: one URL, or a JSON object of webhook names to destinations with a
    `default`. Every URL is checked, and every webhook the routes name must be there."""
    if isinstance(value, bytes):
        value = value.decode()
    text = str(value).strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            raise WebhookError("the webhook secret is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise WebhookError("the webhook secret must map webhook names to URLs")
        entries: Mapping[str, Any] = parsed
    else:
        entries = {DEFAULT_WEBHOOK: text}
    destinations = {name: _destination(name, item, config) for name, item in entries.items()}
    if DEFAULT_WEBHOOK not in destinations:
        raise WebhookError(f"the webhook secret has no {DEFAULT_WEBHOOK!r} webhook")
    missing = {route.webhook for route in config.routes} - set(destinations)
    if missing:
        raise WebhookError(f"ROUTES names webhooks the secret lacks: {', '.join(sorted(missing))}")
    return destinations
