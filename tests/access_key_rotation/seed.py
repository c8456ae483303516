"""A user under rotation in the moto account: its key in a secret, a rotation started.

moto's RotateSecret invokes the function through Docker, so `start_rotation` does what Secrets
Manager does before calling createSecret: it enables rotation and stages an empty AWSPENDING
version under the token.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.secretsmanager.models import secretsmanager_backends

from access_key_rotation.protocol import RotationError
from opskit.iam_keys import SECRET_TAG_ON_USER, USER_TAG_ON_ROTATED

REGION = "eu-west-1"
SECRET_NAME = "opskit/iam/ci-deployer"
USER = "ci-deployer"
TOKEN = "c3a9e1d0-7b52-4f86-9a14-2e6d8b0f5c71"  # as in the sample events
SAMPLE_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:opskit/iam/ci-deployer-AbCdEf"


def user_with_key(user: str = USER, secret: str | None = None) -> dict[str, str]:
    """A user with one key; `secret` sets its `opskit:rotation-secret` tag (secret_for binds
    the user to the secret it creates)."""
    iam = boto3.client("iam")
    tags = [{"Key": SECRET_TAG_ON_USER, "Value": secret}] if secret else []
    iam.create_user(UserName=user, Path="/service/", Tags=tags)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {"UserName": user, "AccessKeyId": key["AccessKeyId"],
            "SecretAccessKey": key["SecretAccessKey"]}


def secret_for(value: dict[str, str] | str, name: str = SECRET_NAME, user: str = USER, *,
               bind: bool = True) -> str:
    """A secret tagged with its user; with `bind`, the user is tagged with the secret's ARN."""
    sm = boto3.client("secretsmanager", region_name=REGION)
    text = value if isinstance(value, str) else json.dumps(value)
    arn = str(sm.create_secret(Name=name, SecretString=text, Tags=[
        {"Key": USER_TAG_ON_ROTATED, "Value": user}])["ARN"])
    if bind:
        bind_user(user, arn)
    return arn


def bind_user(user: str, arn: str) -> None:
    boto3.client("iam").tag_user(UserName=user, Tags=[{"Key": SECRET_TAG_ON_USER, "Value": arn}])


def start_rotation(secret_arn: str, token: str = TOKEN) -> str:
    secret: Any = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[secret_arn]
    secret.rotation_enabled = secret.rotation_requested = True
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {"createdate": int(time.time()), "version_id": token,
                              "version_stages": ["AWSPENDING"]}
    return token


def under_rotation() -> tuple[str, dict[str, str]]:
    """The sample events' secret (same ARN), holding a fresh key of ci-deployer, mid-rotation."""
    value = user_with_key()
    arn = secret_for(value)
    secret: Any = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION].secrets[arn]
    secret.arn = SAMPLE_ARN
    bind_user(USER, SAMPLE_ARN)
    start_rotation(SAMPLE_ARN)
    return SAMPLE_ARN, value


def stage_pending(arn: str, user: str = USER, token: str = TOKEN) -> str:
    """What createSecret leaves behind: a new key of the user, staged AWSPENDING."""
    key = boto3.client("iam").create_access_key(UserName=user)["AccessKey"]
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=arn, ClientRequestToken=token, VersionStages=["AWSPENDING"],
        SecretString=json.dumps({"UserName": user, "AccessKeyId": key["AccessKeyId"],
                                 "SecretAccessKey": key["SecretAccessKey"]}))
    return str(key["AccessKeyId"])


def seed(name: str) -> AbstractContextManager[Any] | None:
    arn, _ = under_rotation()
    if name != "create-secret":
        stage_pending(arn)
    if name in {"create-secret", "finish-secret"}:
        # In dry-run a step that would write plans, reports and stops the rotation.
        return pytest.raises(RotationError, match="planned, nothing changed: DRY_RUN is true")
    return None
