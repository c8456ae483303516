"""Reads: the credential report (one document for every user), then keys, last use and tags of
the users that need a decision, and the rotation secrets that manage users."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from opskit.iam_keys import USER_TAG_ON_ROTATED
from opskit.tags import tags_to_dict

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

REPORT_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class ReportRow:
    """A user's line of the credential report: whether each key slot holds a key, and its date."""

    user: str
    arn: str
    # (active, last rotated) per key slot that holds a key
    keys: tuple[tuple[bool, datetime], ...]


@dataclass(frozen=True, slots=True)
class Key:
    key_id: str
    user: str
    active: bool
    created: datetime
    last_used: datetime | None = None


@dataclass(frozen=True, slots=True)
class User:
    name: str
    arn: str
    keys: tuple[Key, ...]
    tags: Mapping[str, str] = field(default_factory=dict)


def _date(value: str) -> datetime | None:
    if value in {"", "N/A", "no_information", "not_supported"}:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_report(content: str) -> list[ReportRow]:
    rows = []
    for line in csv.DictReader(io.StringIO(content)):
        if line.get("user") == "<root_account>":
            continue  # the root user's keys are reported by Security Hub, not rotated here
        slots = []
        for slot in ("1", "2"):
            rotated = _date(line.get(f"access_key_{slot}_last_rotated", ""))
            if rotated is not None:
                slots.append((line.get(f"access_key_{slot}_active") == "true", rotated))
        rows.append(ReportRow(line.get("user", ""), line.get("arn", ""), tuple(slots)))
    return rows


def credential_report(iam: IAMClient, wait: Callable[[float], None]) -> list[ReportRow]:
    """Generates (at most every 4 hours, AWS reuses a recent one) and reads the report."""
    for _ in range(REPORT_ATTEMPTS):
        if iam.generate_credential_report().get("State") == "COMPLETE":
            break
        wait(2.0)
    content = iam.get_credential_report()["Content"]
    return parse_report(content.decode() if isinstance(content, bytes) else str(content))


def user(iam: IAMClient, row: ReportRow) -> User:
    keys = []
    for meta in iam.list_access_keys(UserName=row.user)["AccessKeyMetadata"]:
        used = iam.get_access_key_last_used(AccessKeyId=meta["AccessKeyId"])
        keys.append(Key(meta["AccessKeyId"], row.user, meta["Status"] == "Active",
                        meta["CreateDate"], used.get("AccessKeyLastUsed", {}).get("LastUsedDate")))
    tags = tags_to_dict(iam.list_user_tags(UserName=row.user).get("Tags"))
    return User(row.user, row.arn, tuple(keys), tags)


def rotation_secrets(sm: SecretsManagerClient) -> dict[str, list[tuple[str, bool]]]:
    """User name -> every (secret ARN, rotation enabled) tagged with that user; which one is
    the user's is the user's own tag to say (planner.bound_secret)."""
    # A failure here fails the run: treating managed users as unmanaged could deactivate the
    # key their rotation relies on.
    found: dict[str, list[tuple[str, bool]]] = {}
    pages = sm.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "tag-key", "Values": [USER_TAG_ON_ROTATED]}])
    for page in pages:
        for secret in page.get("SecretList", []):
            tags = tags_to_dict(secret.get("Tags"))
            name = tags.get(USER_TAG_ON_ROTATED)
            if name:
                found.setdefault(name, []).append(
                    (secret["ARN"], bool(secret.get("RotationEnabled"))))
    return found
