"""Mark -> grace -> re-read -> delete, cancelled by removing the tag (pure, no AWS).

First seen unused: tagged `opskit:cleanup-after=<date>` and reported. Seen again unused, still
tagged, on or after that date: re-read just before the delete, and deleted only if nothing
changed (a log group gets a retention instead). In use again while tagged: the tag is removed.
A mark more than one grace period past or ahead was not written by a run that saw the resource
(a hand edit, or runs missed): a new grace period starts. Report-only types are reported and
never tagged; resources an AWS service owns are left to it unless CLEAN_MANAGED_RESOURCES.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from opskit.actions import Action, Plan
from resource_cleanup.finders import Candidate, Found
from resource_cleanup.settings import CLEANUP_TAG, LOG_GROUP, CleanupConfig, managed_by

MARK = "mark-for-cleanup"
DELETE = "delete"
RETAIN = "set-log-retention"
UNMARK = "unmark"
REPORT = "report-unused"


def due_date(tags: Mapping[str, str]) -> date | None:
    value = tags.get(CLEANUP_TAG)
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None  # a value we cannot read: marked again, with a full grace period


@dataclass(frozen=True, slots=True)
class Mark:
    """What a mark's tag call sends: the date the cleanup tag carries."""

    cleanup_after: str


@dataclass(frozen=True, slots=True)
class Retention:
    """What a retention's call sends: the log group by name, and the days to keep."""

    log_group: str
    days: int


def _action(candidate: Candidate, kind: str, reason: str, *, params: object = None,
            **extra: object) -> Action:
    details = {"type": candidate.kind, "monthly_cost_usd": candidate.monthly_cost,
               **candidate.details, **extra}
    return Action(candidate.resource, candidate.kind, kind, reason, details, candidate.tags,
                  params)


def _mark(candidate: Candidate, now: datetime, config: CleanupConfig, why: str = "",
          **extra: object) -> Action:
    after = (now + timedelta(days=config.grace_days)).date()
    what = "set a retention" if candidate.kind == LOG_GROUP else "delete"
    return _action(candidate, MARK, f"{candidate.why}; {why}{'; ' if why else ''}will {what} on "
                                     f"or after {after} unless the {CLEANUP_TAG} tag is removed",
                   params=Mark(after.isoformat()), cleanup_after=after.isoformat(), **extra)


def _managed_note(owner: tuple[str, str]) -> str:
    return (f"owned by {owner[0]} (tagged {owner[1]}): left to it unless "
            "CLEAN_MANAGED_RESOURCES is true")


def stray_mark(due: date, now: datetime, config: CleanupConfig) -> str | None:
    """Why a readable mark cannot have been written by a run that saw the resource unused:
    a run writes its date + GRACE_DAYS, and a later run acts on or after that date."""
    days = (due - now.date()).days
    if days < -config.grace_days:
        return f"the mark {due} is more than {config.grace_days} days past: a new grace period"
    if days > config.grace_days:
        return f"the mark {due} is more than {config.grace_days} days ahead: a new grace period"
    return None


def plan(found: Found, now: datetime, config: CleanupConfig) -> Plan:
    result = Plan()
    young = now - timedelta(hours=config.min_age_hours)
    for candidate in found.candidates:
        owner = managed_by(candidate.tags)
        if owner is not None and not config.clean_managed:
            result.skipped.append((_action(candidate, MARK, candidate.why),
                                   _managed_note(owner)))
            if candidate.marked and candidate.kind not in config.report_only:
                result.actions.append(_action(
                    candidate, UNMARK, f"owned by {owner[0]}: the mark is removed"))
            continue
        if candidate.created is not None and candidate.created > young:
            result.skipped.append((_action(candidate, MARK, candidate.why),
                                   f"created less than {config.min_age_hours} hours ago"))
            continue
        if candidate.kind in config.report_only:
            result.actions.append(_action(candidate, REPORT, candidate.why))
            continue
        due = due_date(candidate.tags)
        stray = stray_mark(due, now, config) if due is not None else None
        if due is None:
            result.actions.append(_mark(candidate, now, config))
        elif stray is not None:
            result.actions.append(_mark(candidate, now, config, stray, previous_mark=str(due)))
        elif due <= now.date():
            if candidate.kind == LOG_GROUP:
                result.actions.append(_action(
                    candidate, RETAIN, f"{candidate.why}; marked until {due}",
                    params=Retention(str(candidate.details.get("name", "")),
                                     config.log_retention_days),
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
        because = found.in_use.get(candidate.resource)
        result.actions.append(_action(candidate, UNMARK, f"in use again ({because}): the mark is "
                                                         "removed" if because else
                                      "in use again: the mark is removed"))
    return result


@dataclass(frozen=True, slots=True)
class Reread:
    """What the re-read just before a delete found."""

    tags: Mapping[str, str] | None = None  # None: the resource is gone
    in_use: str | None = None  # in use now: why
    used_since: str | None = None  # idle now, but used since it was marked: why
    unknown: str | None = None  # what could not be checked (the delete is not made)


def confirm(action: Action, candidate: Candidate, reread: Reread, now: datetime,
            config: CleanupConfig) -> Plan:
    """The due delete (or retention) as the re-read allows it: made with the tags read now,
    or skipped with the reason, the mark removed (in use) or renewed (used since the mark)."""
    result = Plan()
    if reread.tags is None:
        result.actions.append(action)  # gone already: the delete answers "not found", done
        return result
    fresh = replace(candidate, tags=dict(reread.tags))
    owner = managed_by(reread.tags)
    before, after = candidate.tags.get(CLEANUP_TAG), reread.tags.get(CLEANUP_TAG)
    if after is None:
        result.skipped.append((action, "the mark was removed before the delete: cancelled"))
    elif after != before:
        result.skipped.append((action, f"the mark changed to {after!r} before the delete: "
                                       "left for the next run"))
    elif owner is not None and not config.clean_managed:
        result.skipped.append((action, _managed_note(owner)))
    elif reread.in_use is not None:
        result.skipped.append((action, f"in use at the re-read: {reread.in_use}"))
        result.actions.append(_action(fresh, UNMARK, f"in use again ({reread.in_use}): the "
                                                     "mark is removed"))
    elif reread.used_since is not None:
        result.skipped.append((action, f"used since it was marked: {reread.used_since}"))
        result.actions.append(_mark(fresh, now, config, f"{reread.used_since}: a new grace "
                                                        "period", previous_mark=after))
    elif reread.unknown is not None:
        result.failed.append((action, f"not deleted: {reread.unknown}"))
    else:
        result.actions.append(replace(action, tags=dict(reread.tags)))
    return result


def savings(actions: Sequence[Action]) -> dict[str, float]:
    """Estimated monthly saving by resource type, for what is marked, deleted or reported."""
    totals: dict[str, float] = {}
    for action in actions:
        if action.action in {MARK, DELETE, RETAIN, REPORT}:
            cost = float(action.details.get("monthly_cost_usd", 0) or 0)
            totals[action.resource_type] = round(totals.get(action.resource_type, 0) + cost, 2)
    return totals
