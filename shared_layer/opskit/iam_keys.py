"""Conventions shared by the access-key rotation and the key-age auditor.

A rotation secret names its user with the tag `opskit:iam-user`, and the user names its secret
back with `opskit:rotation-secret` (the secret's name or ARN): the rotation acts only when both
agree, and its role may manage keys only of users that carry the tag.

A key's timeline lives on its user as tags, so no other state is needed:
`opskit:key-replaced:<AccessKeyId>` = when a rotation replaced it (it stays active for the
overlap), `opskit:key-deactivated:<AccessKeyId>` = when it was deactivated, or first seen
inactive when a person deactivated it (it is deleted a full period after that).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypedDict

DEACTIVATED_TAG_PREFIX = "opskit:key-deactivated:"
REPLACED_TAG_PREFIX = "opskit:key-replaced:"
USER_TAG_ON_ROTATED = "opskit:iam-user"
SECRET_TAG_ON_USER = "opskit:rotation-secret"  # noqa: S105 (a tag key, not a password)
SECRET_FIELDS = ("UserName", "AccessKeyId", "SecretAccessKey")


class Tag(TypedDict):
    Key: str
    Value: str


def deactivation_tag(access_key_id: str, when: datetime) -> Tag:
    return _stamp(DEACTIVATED_TAG_PREFIX, access_key_id, when)


def replacement_tag(access_key_id: str, when: datetime) -> Tag:
    return _stamp(REPLACED_TAG_PREFIX, access_key_id, when)


def deactivated_at(tags: Mapping[str, str], access_key_id: str) -> datetime | None:
    return _read(tags, DEACTIVATED_TAG_PREFIX, access_key_id)


def replaced_at(tags: Mapping[str, str], access_key_id: str) -> datetime | None:
    return _read(tags, REPLACED_TAG_PREFIX, access_key_id)


def _stamp(prefix: str, access_key_id: str, when: datetime) -> Tag:
    return {"Key": f"{prefix}{access_key_id}", "Value": when.isoformat(timespec="seconds")}


def _read(tags: Mapping[str, str], prefix: str, access_key_id: str) -> datetime | None:
    value = tags.get(f"{prefix}{access_key_id}")
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
