"""The Secrets Manager rotation protocol: the event, the token's stage, the secret's shape.

Errors never carry a secret value: they name the secret, the version and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from opskit.events import EventError, require_object
from opskit.iam_keys import SECRET_FIELDS

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"


class Step(StrEnum):
    CREATE = "createSecret"
    SET = "setSecret"
    TEST = "testSecret"
    FINISH = "finishSecret"


class RotationError(Exception):
    """The rotation cannot go on; Secrets Manager records the failure and retries the step."""


@dataclass(frozen=True, slots=True)
class RotationEvent:
    step: Step
    secret_id: str
    token: str

    @classmethod
    def parse(cls, event: object) -> RotationEvent:
        event = require_object(event)
        step = event.get("Step")
        if not isinstance(step, str) or step not in {s.value for s in Step}:
            raise EventError("Step", step, "createSecret, setSecret, testSecret or finishSecret")
        for field in ("SecretId", "ClientRequestToken"):
            if not isinstance(event.get(field), str) or not event[field]:
                raise EventError(field, event.get(field), "a non-empty string")
        return cls(Step(step), event["SecretId"], event["ClientRequestToken"])

    @property
    def account(self) -> str:
        parts = self.secret_id.split(":")
        return parts[4] if len(parts) > 6 and parts[2] == "secretsmanager" else ""

    @property
    def region(self) -> str:
        parts = self.secret_id.split(":")
        return parts[3] if len(parts) > 6 and parts[2] == "secretsmanager" else ""


def token_stage(metadata: Mapping[str, Any], token: str) -> str:
    """CURRENT when the token's version is already current (the step has nothing to do), PENDING
    when it is staged for rotation; RotationError otherwise, as the protocol requires."""
    name = metadata.get("Name", "?")
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"secret {name} is not enabled for rotation")
    versions = metadata.get("VersionIdsToStages") or {}
    if token not in versions:
        raise RotationError(f"secret {name} has no version {token} to rotate")
    if CURRENT in versions[token]:
        return CURRENT
    if PENDING not in versions[token]:
        raise RotationError(f"secret {name} version {token} is not staged {PENDING}")
    return PENDING


def current_version(metadata: Mapping[str, Any]) -> str | None:
    for version, stages in (metadata.get("VersionIdsToStages") or {}).items():
        if CURRENT in stages:
            return str(version)
    return None


@dataclass(frozen=True, slots=True)
class KeySecret:
    user_name: str
    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:  # never print the secret
        return f"KeySecret(user_name={self.user_name!r}, access_key_id={self.access_key_id!r})"

    @classmethod
    def parse(cls, text: str | None, where: str) -> KeySecret:
        """`where` names the secret and version in the error; the value is never quoted."""
        try:
            value = json.loads(text or "")
        except ValueError:
            raise RotationError(f"{where}: the secret is not a JSON object with "
                                f"{', '.join(SECRET_FIELDS)}") from None
        if not isinstance(value, dict):
            raise RotationError(f"{where}: the secret is not a JSON object with "
                                f"{', '.join(SECRET_FIELDS)}")
        for field in SECRET_FIELDS:
            if not isinstance(value.get(field), str) or not value[field]:
                raise RotationError(f"{where}: field {field} is missing or not a string")
        return cls(value["UserName"], value["AccessKeyId"], value["SecretAccessKey"])

    def dumps(self) -> str:
        return json.dumps({"UserName": self.user_name, "AccessKeyId": self.access_key_id,
                           "SecretAccessKey": self.secret_access_key})
