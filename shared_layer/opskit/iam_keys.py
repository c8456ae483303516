"""Conventions shared by the access-key rotation and the key-age auditor.

When a key is deactivated (by rotation's finishSecret or by the auditor), the user gets the tag
`opskit:key-deactivated:<AccessKeyId>` = the time, so the auditor can delete the key after its
grace period without any other state. Rotation secrets name their user with the tag
`opskit:iam-user`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

DEACTIVATED_TAG_PREFIX = "opskit:key-deactivated:"
USER_TAG_ON_ROTATED = "opskit:iam-user"
SECRET_FIELDS = ("UserName", "AccessKeyId", "SecretAccessKey")


def deactivation_tag(access_key_id: str, when: datetime) -> dict[str, str]:
    return {"Key": f"{DEACTIVATED_TAG_PREFIX}{access_key_id}",
            "Value": when.isoformat(timespec="seconds")}


def deactivated_at(tags: Mapping[str, str], access_key_id: str) -> datetime | None:
    value = tags.get(f"{DEACTIVATED_TAG_PREFIX}{access_key_id}")
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
