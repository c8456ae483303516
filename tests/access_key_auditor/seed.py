"""IAM users with keys of chosen ages in the moto account (ages counted from the sample event)."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import AccessKeyLastUsed, iam_backends

from access_key_auditor import app as auditor_app

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # the sample event's time


def aged_key(user: str, days: int, *, used_days_ago: float | None = None,
             active: bool = True, tags: dict[str, str] | None = None) -> str:
    """A key of `user` (created if needed) made `days` ago, last used `used_days_ago` ago."""
    iam = boto3.client("iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName=user, Tags=[{"Key": k, "Value": v}
                                             for k, v in (tags or {}).items()])
    key_id = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    if not active:
        iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
    backend: Any = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    key = next(k for k in backend.users[user].access_keys if k.access_key_id == key_id)
    key.create_date = (NOW - timedelta(days=days)).replace(tzinfo=None)
    key.last_used = (None if used_days_ago is None else AccessKeyLastUsed(
        (NOW - timedelta(days=used_days_ago)).replace(tzinfo=None), "s3", "eu-west-1"))
    return str(key_id)


def sample_users() -> dict[str, str]:
    return {
        "fresh": aged_key("app-fresh", 10, used_days_ago=0.5),
        "nearing": aged_key("app-nearing", 85, used_days_ago=1),
        "overdue": aged_key("app-overdue", 120, used_days_ago=10),
        "stale-inactive": aged_key("app-retired", 200, used_days_ago=150, active=False),
        "exempt": aged_key("break-glass", 400, tags={"opskit:exempt": "true"}),
    }


def seed(name: str) -> AbstractContextManager[Any]:
    sample_users()
    return patch.object(auditor_app, "wait", lambda _: None)  # no real pause between polls
