"""The override tag: keep a resource on or off until a given time (`on until 2026-12-01T18:00Z`),
or for good (`on`, `off`: a permanent override, until a person removes the tag)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_OVERRIDE_RE = re.compile(r"^(on|off)(?:\s+until\s+(\S+))?$", re.IGNORECASE)


class OverrideError(ValueError):
    """An override tag that cannot be parsed."""


@dataclass(frozen=True, slots=True)
class Override:
    running: bool
    until: datetime | None  # None: permanent

    def active_at(self, instant: datetime) -> bool:
        return self.until is None or instant < self.until

    def describe(self) -> str:
        state = "on" if self.running else "off"
        if self.until is None:
            return f"{state} (permanent)"
        return f"{state} until {self.until.isoformat().replace('+00:00', 'Z')}"


def parse_override(text: str) -> Override:
    match = _OVERRIDE_RE.match(text.strip())
    if match is None:
        raise OverrideError("expected 'on until <time>' or 'off until <time>', "
                            "e.g. 'on until 2026-12-01T18:00Z', or 'on' or 'off' for good")
    if match[2] is None:
        return Override(match[1].lower() == "on", None)
    try:
        until = datetime.fromisoformat(match[2])
    except ValueError:
        raise OverrideError(f"{match[2]!r} is not an ISO 8601 time such as 2026-12-01T18:00Z") \
            from None
    if until.tzinfo is None:
        raise OverrideError(f"{match[2]!r} has no time zone: add Z or an offset such as +01:00")
    return Override(match[1].lower() == "on", until)
