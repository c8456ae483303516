"""Key ages -> what to report, rotate, deactivate or delete (pure, no AWS).

Protections: exempt users are never touched (each action carries the user's tags, so the
executor skips it); a key used after its replacement was created is never deactivated or
deleted (something still depends on it); a key used within RECENT_USE_DAYS is not deactivated
unless the stack says so; a user's only active key is reported critical for at least a day
before it is deactivated; a key a rotation replaced follows the rotation's timeline; a key a
person deactivated is deleted a full DELETE_AFTER_DAYS after it was first seen inactive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from access_key_auditor.inventory import Key, ReportRow, User
from access_key_auditor.settings import AuditorConfig, Mode
from opskit.actions import Action, Plan
from opskit.iam_keys import SECRET_TAG_ON_USER, deactivated_at, replaced_at

KEY = "iam:access-key"
WARN = "warn-key-age"
OVERDUE = "report-overdue-key"
ROTATE = "rotate-secret"
DEACTIVATE = "deactivate-key"
DELETE = "delete-key"
RECORD = "record-inactive-key"


def needs_look(row: ReportRow, now: datetime, config: AuditorConfig) -> bool:
    """From the credential report alone: an active key at warning age, or any inactive key."""
    warn = timedelta(days=config.warn_days)
    return any(not active or now - rotated >= warn for active, rotated in row.keys)


def _days(delta: timedelta) -> int:
    return delta.days


def _still_used(key: Key, user: User) -> str | None:
    """The newer key this one was used after (so something still needs it), or None."""
    for newer in user.keys:
        if newer.created > key.created and key.last_used and key.last_used > newer.created:
            return (f"used {key.last_used:%Y-%m-%d %H:%M} UTC, after its replacement "
                    f"{newer.key_id} was created: something still depends on it")
    return None


def _recently_used(key: Key, now: datetime, config: AuditorConfig) -> str | None:
    recent = timedelta(days=config.recent_use_days)
    if config.deactivate_recently_used or key.last_used is None or now - key.last_used >= recent:
        return None
    return (f"used {key.last_used:%Y-%m-%d %H:%M} UTC, within the last "
            f"{config.recent_use_days} days (RECENT_USE_DAYS)")


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """What the IAM calls on a key send beyond the key id: its user."""

    user: str


def plan_user(user: User, now: datetime, config: AuditorConfig,
              secret: tuple[str, bool] | None) -> Plan:
    plan = Plan()  # exempt users: the executor skips every action (they carry the user's tags)
    max_age = timedelta(days=config.max_key_age_days)
    for key in sorted(user.keys, key=lambda k: k.created):
        age = now - key.created
        details = {"user": user.name, "age_days": _days(age), "active": key.active,
                   "created": key.created.isoformat(),
                   "last_used": key.last_used.isoformat() if key.last_used else None}

        def action(kind: str, reason: str, key: Key = key,
                   details: Mapping[str, object] = details) -> Action:
            return Action(key.key_id, KEY, kind, reason, dict(details), user.tags,
                          KeyOwner(user.name))

        if key.active:
            if age < timedelta(days=config.warn_days):
                continue
            replaced = replaced_at(user.tags, key.key_id)
            if replaced is not None and secret is not None:  # a bound user's rotation
                plan.add(action(OVERDUE, f"replaced by a rotation on {replaced:%Y-%m-%d}: the "
                                         "rotation's timeline deactivates and deletes it"))
                continue
            if secret is not None and age >= max_age:
                plan.add(_managed(user, key, secret, details, config, age=age))
                continue
            if age < max_age:
                plan.add(action(WARN, f"{_days(age)} days old; the limit is "
                                      f"{config.max_key_age_days}"))
                continue
            only = sum(k.active for k in user.keys) == 1
            # The only key: at least one day of critical reports before it is deactivated.
            due = max_age + timedelta(days=max(config.grace_days, 1 if only else 0))
            if only and config.mode == Mode.ENFORCE:  # it will be deactivated: say so loudly
                details = {**details, "only_key": True}
            if age < due or config.mode == Mode.REPORT:
                when = ("in enforce mode" if config.mode == Mode.REPORT
                        else f"on {(key.created + due):%Y-%m-%d}")
                plan.add(action(OVERDUE, f"{_days(age)} days old, over the "
                                         f"{config.max_key_age_days}-day limit; deactivated "
                                         f"{when}", details=details))
                continue
            reason = (f"{_days(age)} days old, past the limit and {config.grace_days} days "
                      "of grace")
            in_use = _still_used(key, user) or _recently_used(key, now, config)
            # A key still in use is not deactivated: it is reported, so a person sees why.
            plan.add(action(OVERDUE, f"{reason}; not deactivated: {in_use}", details=details)
                     if in_use else action(DEACTIVATE, reason + ("; the user's only key" if only
                                                                 else ""), details=details))
            continue
        since = deactivated_at(user.tags, key.key_id)
        if since is None:
            # Deactivated by a person, when is unknown: enforce records it now, and the
            # deletion period counts from then (never from its last use).
            seen = key.last_used or key.created
            if config.mode == Mode.ENFORCE:
                plan.add(action(RECORD, "inactive (deactivated by a person): deleted from "
                                        f"{now + timedelta(days=config.delete_after_days):%Y-%m-%d}"
                                        " at the earliest"))
            elif now - seen >= timedelta(days=config.delete_after_days):
                plan.add(action(OVERDUE, "inactive (deactivated by a person); enforce records "
                                         f"it and deletes it {config.delete_after_days} days "
                                         "later"))
            continue
        if now - since < timedelta(days=config.delete_after_days):
            continue
        reason = f"inactive since {since:%Y-%m-%d} (over {config.delete_after_days} days)"
        in_use = _still_used(key, user)
        if config.mode == Mode.REPORT:
            plan.add(action(OVERDUE, f"{reason}; deleted in enforce mode"))
        elif in_use:
            plan.add(action(OVERDUE, f"{reason}; not deleted: {in_use}"))
        else:
            plan.add(action(DELETE, reason))
    return plan


def _managed(user: User, key: Key, secret: tuple[str, bool], details: Mapping[str, object],
             config: AuditorConfig, *, age: timedelta) -> Action:
    """A user whose key a rotation secret manages: rotate it (enforce), or say what blocks it."""
    arn, enabled = secret
    old = f"key {key.key_id} of {user.name} is {_days(age)} days old"
    active = [k for k in user.keys if k.active]
    blocked = None
    if not enabled:
        blocked = f"{old}; secret {arn} has rotation off: turn it on to replace the key"
    elif len(active) > 1:
        blocked = (f"{old}; {user.name} has {len(active)} active keys, so rotation cannot add "
                   "one: deactivate the key that is not in the secret")
    elif config.mode == Mode.REPORT:
        blocked = f"{old}; rotation of secret {arn} is started in enforce mode"
    if blocked is not None:
        return Action(key.key_id, KEY, OVERDUE, blocked, {**details, "secret": arn}, user.tags,
                      KeyOwner(user.name))
    return Action(arn, "secretsmanager:secret", ROTATE, old, {**details, "key": key.key_id},
                  user.tags)


def bound_secret(user: User, secrets: Sequence[tuple[str, bool]]) -> tuple[str, bool] | None:
    """The user's rotation secret: the one whose ARN the user's own tag names. A secret merely
    tagged with the user (a decoy) makes no user managed."""
    named = user.tags.get(SECRET_TAG_ON_USER, "").strip()
    return next((s for s in secrets if s[0] == named), None)


def plan_users(users: Sequence[User], now: datetime, config: AuditorConfig,
               secrets: Mapping[str, Sequence[tuple[str, bool]]]) -> Plan:
    plan = Plan()
    for user in users:
        plan.extend(plan_user(user, now, config, bound_secret(user, secrets.get(user.name, ()))))
    return plan
