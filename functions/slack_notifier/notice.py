"""The neutral message model every input is rendered to, before it becomes Slack blocks."""

from __future__ import annotations

from dataclasses import dataclass

from opskit.notify import SEVERITIES, Severity

__all__ = ["SEVERITIES", "Link", "Notice", "Severity"]


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Notice:
    """What a person needs at a glance: severity, title, key fields, a link, where it happened."""

    source: str  # e.g. "cloudwatch.alarm", "aws.codepipeline", "opskit.report", "text"
    severity: Severity
    title: str
    text: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = ()  # log lines, report actions: shown as a list, truncated
    link: Link | None = None
    account: str | None = None
    region: str | None = None
