"""The daily end of each rotation's timeline: the replaced key's overlap, then its deletion.

After a rotation the previous key stays active for `overlap` (consumers that cache credentials
move to the new one), is then deactivated, and is deleted `delete_after` later. A key a person
deactivated is first recorded (its deletion counts from then). Only users bound to a rotation
secret (binding.py) are touched, and never the key in the secret's AWSCURRENT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from access_key_rotation.binding import bound_user
from access_key_rotation.protocol import CURRENT, KeySecret, RotationError
from opskit.actions import Action, Executor, Plan
from opskit.iam_keys import (
    DEACTIVATED_TAG_PREFIX,
    REPLACED_TAG_PREFIX,
    USER_TAG_ON_ROTATED,
    deactivated_at,
    deactivation_tag,
    replaced_at,
)
from opskit.runner import TargetRun
from opskit.tags import tags_to_dict

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

KEY = "iam:access-key"
DEACTIVATE = "deactivate-replaced-key"
DELETE = "delete-inactive-key"
RECORD = "record-inactive-key"


@dataclass(frozen=True, slots=True)
class Periods:
    overlap: timedelta  # a replaced key stays active this long
    delete_after: timedelta  # a key a rotation replaced stays inactive this long
    # Any other inactive key (the auditor's, a person's) stays as long as the auditor keeps it
    # (KeyDeleteAfterDays): the rotation never deletes those sooner.
    other_delete_after: timedelta = timedelta(days=30)

    def deletion_for(self, tags: Mapping[str, str], key_id: str) -> timedelta:
        return (self.delete_after if replaced_at(tags, key_id) is not None
                else max(self.delete_after, self.other_delete_after))


def plan_keys(user: str, tags: Mapping[str, str], keys: Sequence[Mapping[str, Any]],
              current: str, *, now: datetime, periods: Periods) -> Plan:
    """What the timeline does to one user's keys (pure). The key in AWSCURRENT, and an active
    key no rotation replaced (a person's second key), are left alone."""
    plan = Plan()
    for key in keys:
        key_id = str(key["AccessKeyId"])
        if key_id == current:
            continue
        details = {"user": user}
        if key["Status"] == "Active":
            replaced = replaced_at(tags, key_id)
            if deactivated_at(tags, key_id) is not None:
                continue  # deactivated once, then turned back on by a person: theirs now
            if replaced is not None and now - replaced >= periods.overlap:
                plan.add(Action(key_id, KEY, DEACTIVATE, f"replaced on {replaced:%Y-%m-%d}; its "
                                f"{periods.overlap.days}-day overlap is over", details, dict(tags)))
            continue
        since = deactivated_at(tags, key_id)
        wait = periods.deletion_for(tags, key_id)
        if since is None:
            plan.add(Action(key_id, KEY, RECORD, "inactive, deactivated by a person: deleted "
                            f"from {now + wait:%Y-%m-%d}", details, dict(tags)))
        elif now - since >= wait:
            plan.add(Action(key_id, KEY, DELETE, f"inactive since {since:%Y-%m-%d}, over "
                            f"{wait.days} days", details, dict(tags)))
    return plan


def bound_secrets(sm: SecretsManagerClient) -> Iterator[dict[str, Any]]:
    """Every secret tagged with a user to rotate (ListSecrets, paginated, filtered by tag)."""
    pages = sm.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "tag-key", "Values": [USER_TAG_ON_ROTATED]}])
    for page in pages:
        yield from page.get("SecretList", [])  # type: ignore[misc]


def run_timeline(sm: SecretsManagerClient, iam: IAMClient, executor: Executor,
                 periods: Periods, now: datetime) -> TargetRun:
    """One pass over every bound secret; one that fails is reported and never blocks the
    others."""
    checked = 0
    for secret in bound_secrets(sm):
        name = str(secret.get("Name", "?"))
        try:
            checked += 1
            _one(sm, iam, executor, secret, now=now, periods=periods)
        except (RotationError, ClientError, BotoCoreError) as error:
            # One secret that cannot be checked (its user or value gone, its key refused)
            # never stops the others.
            executor.fail(Action(name, "secretsmanager:secret", "check-key-timeline",
                                 "the secret's keys could not be checked", {}), str(error))
    # Quiet when nothing was due: a daily "nothing to do" is not news.
    return TargetRun(title=f"Access-key rotation timeline: {checked} secret(s) checked",
                     quiet=not executor.outcomes)


def _user_tags(iam: IAMClient, user: str) -> dict[str, str]:
    return tags_to_dict(iam.list_user_tags(UserName=user)["Tags"])


def _one(sm: SecretsManagerClient, iam: IAMClient, executor: Executor,
         secret: Mapping[str, Any], *, now: datetime, periods: Periods) -> None:
    name = str(secret.get("Name", "?"))
    user, tags = bound_user(secret, lambda u: _user_tags(iam, u))
    value = sm.get_secret_value(SecretId=str(secret["ARN"]), VersionStage=CURRENT)
    current = KeySecret.parse(value.get("SecretString"), f"secret {name} {CURRENT}")
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    plan = plan_keys(user, tags, keys, current.access_key_id, now=now, periods=periods)
    for action in plan.actions:
        if not _still_so(iam, user, action, current.access_key_id, now=now, periods=periods):
            executor.skip(action, "changed since it was read (its status or the user's tags): "
                                  "left alone")
            continue
        executor.run([action], _applier(iam, user, action, now),
                     idempotent_errors=("NoSuchEntity",))


def _still_so(iam: IAMClient, user: str, action: Action, current: str, *, now: datetime,
              periods: Periods) -> bool:
    """Re-read just before acting: the key's status and the user's tags must still lead to
    the same action (a key a person re-activated, or a tag removed, saves it)."""
    statuses = {k["AccessKeyId"]: k["Status"]
                for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    if action.resource not in statuses:
        return False
    again = plan_keys(user, _user_tags(iam, user),
                      [{"AccessKeyId": action.resource, "Status": statuses[action.resource]}],
                      current, now=now, periods=periods)
    return [a.action for a in again.actions] == [action.action]


def _applier(iam: IAMClient, user: str, action: Action,
             now: datetime) -> Callable[[Sequence[Action]], None]:
    return lambda _: _apply(iam, user, action, now)


def _apply(iam: IAMClient, user: str, action: Action, now: datetime) -> None:
    key_id = action.resource
    if action.action == DEACTIVATE:
        iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
        iam.tag_user(UserName=user, Tags=[deactivation_tag(key_id, now)])
    elif action.action == RECORD:
        iam.tag_user(UserName=user, Tags=[deactivation_tag(key_id, now)])
    else:
        iam.delete_access_key(UserName=user, AccessKeyId=key_id)
        iam.untag_user(UserName=user, TagKeys=[f"{DEACTIVATED_TAG_PREFIX}{key_id}",
                                               f"{REPLACED_TAG_PREFIX}{key_id}"])
