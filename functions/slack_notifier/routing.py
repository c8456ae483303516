"""Which webhook a notice goes to: the first matching route, else `default`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opskit.config import ConfigError
from slack_notifier.notice import SEVERITIES, Notice

DEFAULT_WEBHOOK = "default"


@dataclass(frozen=True, slots=True)
class Route:
    webhook: str
    severities: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()  # prefixes: "aws." matches every AWS event
    accounts: frozenset[str] = frozenset()

    def matches(self, notice: Notice) -> bool:
        return ((not self.severities or notice.severity in self.severities)
                and (not self.sources or notice.source.startswith(self.sources))
                and (not self.accounts or (notice.account or "") in self.accounts))


def _strings(value: Any, where: str, text: str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("ROUTES", text, f"{where}: a string or a list of strings")
    return value


def parse_routes(raw: Any, text: str | None) -> tuple[Route, ...]:
    """`[{"webhook": "security", "severity": ["critical"], "source": ["aws.guardduty"],
    "account": ["111122223333"]}, ...]`"""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("ROUTES", text, "a JSON list of routes")
    routes = []
    for index, item in enumerate(raw):
        where = f"route {index}"
        if not isinstance(item, dict) or not isinstance(item.get("webhook"), str):
            raise ConfigError("ROUTES", text, f'{where}: an object with a "webhook" name')
        unknown = set(item) - {"webhook", "severity", "source", "account"}
        if unknown:
            raise ConfigError("ROUTES", text, f"{where}: only webhook, severity, source, "
                                              f"account (not {', '.join(sorted(unknown))})")
        severities = _strings(item.get("severity"), where, text)
        if set(severities) - set(SEVERITIES):
            raise ConfigError("ROUTES", text, f"{where}: severities among {', '.join(SEVERITIES)}")
        routes.append(Route(item["webhook"], frozenset(severities),
                            tuple(_strings(item.get("source"), where, text)),
                            frozenset(_strings(item.get("account"), where, text))))
    return tuple(routes)


def choose_webhook(notice: Notice, routes: Sequence[Route]) -> str:
    return next((route.webhook for route in routes if route.matches(notice)), DEFAULT_WEBHOOK)
