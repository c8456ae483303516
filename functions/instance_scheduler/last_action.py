"""The tag by which a resource remembers what the scheduler last did to it, and when.

`opskit:scheduler-last` = `stopped@2026-12-07T19:00Z`: the scheduler's only state, kept on the
resource itself. A transition of the schedule later than that time has not been applied yet (a
missed run is repaired); a difference found while no transition has happened since is a change
made by hand, which is left alone unless the schedule is enforced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_VALUE_RE = re.compile(r"^([a-z-]+)@(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?Z)$")


class Verb(StrEnum):
    # The scheduler changed the state.
    STOPPED = "stopped"
    STARTED = "started"
    # At a transition the resource was already in the wanted state: recorded, not changed.
    FOUND_STOPPED = "found-stopped"
    FOUND_RUNNING = "found-running"
    # At a start, already running although the scheduler had left it stopped: a person started
    # it before its period (what `retain-running` spares at the period's end).
    FOUND_STARTED_EARLY = "found-started-early"


@dataclass(frozen=True, slots=True)
class LastAction:
    verb: Verb
    at: datetime

    @property
    def left_stopped(self) -> bool:
        return self.verb in (Verb.STOPPED, Verb.FOUND_STOPPED)

    def value(self) -> str:
        """The tag value (letters, digits, `- : @`: valid on EC2, Auto Scaling and RDS)."""
        return f"{self.verb}@{self.at.astimezone(UTC):%Y-%m-%dT%H:%M}Z"

    def describe(self) -> str:
        return f"{self.at.astimezone(UTC):%Y-%m-%dT%H:%M}Z"


def last_action(verb: Verb, now: datetime) -> LastAction:
    """What the scheduler does now, to the minute (transitions fall on whole minutes)."""
    return LastAction(verb, now.astimezone(UTC).replace(second=0, microsecond=0))


def parse_last_action(text: str | None) -> LastAction | None:
    """The recorded action, or None when there is none or it cannot be read (then the resource
    is treated as never acted on: the schedule's last transition is applied and recorded)."""
    match = _VALUE_RE.match((text or "").strip())
    if match is None:
        return None
    try:
        return LastAction(Verb(match[1]), datetime.fromisoformat(match[2]))
    except ValueError:  # an unknown verb, or a date such as 2026-13-01
        return None
