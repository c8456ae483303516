"""The notifier's configuration, read once from the environment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from opskit.config import ConfigError, Env
from slack_notifier.routing import Route, parse_routes

AUTOMATION = "slack_notifier"


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    webhook_secret_name: str | None
    webhook_parameter_name: str | None
    routes: tuple[Route, ...]
    mention: str | None
    allowed_hosts: frozenset[str]
    secret_max_age_seconds: int
    region: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotifierConfig:
        env = Env(environ)
        secret = env.optional_text("SLACK_WEBHOOK_SECRET")
        parameter = env.optional_text("SLACK_WEBHOOK_PARAMETER")
        if (secret is None) == (parameter is None):
            raise ConfigError("SLACK_WEBHOOK_SECRET", secret,
                              "exactly one of SLACK_WEBHOOK_SECRET (Secrets Manager) or "
                              "SLACK_WEBHOOK_PARAMETER (SSM SecureString)")
        raw_routes = env.raw("ROUTES")
        try:
            routes = json.loads(raw_routes) if raw_routes else None
        except json.JSONDecodeError:
            raise ConfigError("ROUTES", raw_routes, "a JSON list of routes") from None
        mention = env.optional_text("ALARM_MENTION")
        if mention is not None and not (mention.startswith("<") and mention.endswith(">")):
            raise ConfigError("ALARM_MENTION", mention, "a Slack mention such as <!here>, "
                                                        "<!channel> or <@U012AB3CD>")
        return cls(
            webhook_secret_name=secret,
            webhook_parameter_name=parameter,
            routes=parse_routes(routes, raw_routes),
            mention=mention,
            allowed_hosts=frozenset(env.items("WEBHOOK_HOSTS") or ("hooks.slack.com",)),
            secret_max_age_seconds=env.integer("SECRET_MAX_AGE_SECONDS", 300, minimum=0,
                                               maximum=86_400),
            region=env.text("AWS_REGION", env.raw("AWS_DEFAULT_REGION") or "us-east-1"),
        )
