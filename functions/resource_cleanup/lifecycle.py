"""Mark -> grace -> delete, cancelled by removing the tag (pure, no AWS).

First seen unused: tagged `opskit:cleanup-after=<date>` and reported. Seen again unused, still
tagged, on or after that date: deleted (a log group gets a retention instead). In use again
while tagged: the tag is removed. Report-only types are reported and never tagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from opskit.actions import Action, Plan
from resource_cleanup.finders import Candidate, Found
from resource_cleanup.settings import CLEANUP_TAG, LOG_GROUP, CleanupConfig

MARK = "mark-for-cleanup"
DELETE = "delete"
RETAIN = "set-log-retention"
UNMARK = "unmark"
REPORT = "report-unused"


def due_date(tags: dict[str, str] | object, now: datetime) -> date | None:
    value = tags.get(CLEANUP_TAG) if isinstance(tags, dict) else None
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None  # a value we cannot read: marked again, with a full grace period


def _action(candidate: Candidate, kind: str, reason: str, **extra: object) -> Action:
    details = {"type": candidate.kind, "monthly_cost_usd": candidate.monthly_cost,
               **candidate.details, **extra}
    return Action(candidate.resource, candidate.kind, kind, reason, details, candidate.tags)


def plan(found: Found, now: datetime, config: CleanupConfig) -> Plan:
    result = Plan()
    young = now - timedelta(hours=config.min_age_hours)
    for candidate in found.candidates:
        if candidate.created is not None and candidate.created > young:
            result.skipped.append((_action(candidate, MARK, candidate.why),
                                   f"created less than {config.min_age_hours} hours ago"))
            continue
        if candidate.kind in config.report_only:
            result.actions.append(_action(candidate, REPORT, candidate.why))
            continue
        due = due_date(dict(candidate.tags), now)
        if due is None:
            after = (now + timedelta(days=config.grace_days)).date()
            what = "set a retention" if candidate.kind == LOG_GROUP else "delete"
            result.actions.append(_action(
                candidate, MARK, f"{candidate.why}; will {what} on or after {after} unless the "
                                 f"{CLEANUP_TAG} tag is removed", cleanup_after=after.isoformat()))
        elif due <= now.date():
            if candidate.kind == LOG_GROUP:
                result.actions.append(_action(
                    candidate, RETAIN, f"{candidate.why}; marked until {due}",
                    retention_days=config.log_retention_days))
            else:
                result.actions.append(_action(candidate, DELETE,
                                              f"{candidate.why}; marked until {due}"))
        else:
            pending = RETAIN if candidate.kind == LOG_GROUP else DELETE
            result.skipped.append((_action(candidate, pending, candidate.why),
                                   f"marked: due on {due}"))
    for candidate in found.back_in_use:
        if candidate.kind in config.report_only:
            continue  # never marked by us: a tag someone else wrote is theirs
        result.actions.append(_action(candidate, UNMARK, "in use again: the mark is removed"))
    return result


def savings(actions: Sequence[Action]) -> dict[str, float]:
    """Estimated monthly saving by resource type, for what is marked, deleted or reported."""
    totals: dict[str, float] = {}
    for action in actions:
        if action.action in {MARK, DELETE, RETAIN, REPORT}:
            cost = float(action.details.get("monthly_cost_usd", 0) or 0)
            totals[action.resource_type] = round(totals.get(action.resource_type, 0) + cost, 2)
    return totals
