"""The notifier's configuration, read once from the environment."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from opskit.config import ConfigError, Env
from slack_notifier.routing import Route, parse_routes
from slack_notifier.teams_message import TeamsMention

AUTOMATION = "slack_notifier"
SLACK_HOSTS = ("hooks.slack.com",)
# Workflows webhooks ("When a Teams webhook request is received"): Logic Apps hosts, and the
# Power Platform hosts of newer workflows.
TEAMS_HOSTS = ("*.logic.azure.com", "*.environment.api.powerplatform.com")
# `On-call <oncall@example.com>`: the name shown, then the user's UPN or Entra object id.
_HOST = re.compile(r"(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+")
_TEAMS_MENTION = re.compile(r"([^<>]+?)\s*<([^<>\s]+)>")


def parse_teams_mention(text: str | None) -> TeamsMention | None:
    if text is None:
        return None
    match = _TEAMS_MENTION.fullmatch(text.strip())
    if match is None:
        raise ConfigError("TEAMS_ALARM_MENTION", text,
                          "a display name and the user's UPN or object id, "
                          "e.g. On-call <oncall@example.com>")
    return TeamsMention(name=match[1], id=match[2])


def _hosts(env: Env, name: str, default: tuple[str, ...]) -> frozenset[str]:
    return frozenset(env.items(name, item=lambda host: bool(_HOST.fullmatch(host)),
                               expected="comma-separated host names, *.domain for any host "
                                        "under a domain") or default)


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    webhook_secret_name: str | None
    webhook_parameter_name: str | None
    routes: tuple[Route, ...]
    mention: str | None
    teams_mention: TeamsMention | None
    slack_hosts: frozenset[str]
    teams_hosts: frozenset[str]
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
            teams_mention=parse_teams_mention(env.optional_text("TEAMS_ALARM_MENTION")),
            slack_hosts=_hosts(env, "WEBHOOK_HOSTS", SLACK_HOSTS),
            teams_hosts=_hosts(env, "TEAMS_WEBHOOK_HOSTS", TEAMS_HOSTS),
            secret_max_age_seconds=env.integer("SECRET_MAX_AGE_SECONDS", 300, minimum=0,
                                               maximum=86_400),
            region=env.text("AWS_REGION", env.raw("AWS_DEFAULT_REGION") or "us-east-1"),
        )
