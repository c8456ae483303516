"""Typed settings read once from the environment, with errors that name the variable and value."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opskit.tags import TRUE_VALUES

_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_ROLE_NAME_RE = re.compile(r"^[\w+=,.@/-]{1,64}$")
# Compiled on first use only (re's cache): most deployments target no OU and dispatch nothing.
_PARENT = r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$"
_QUEUE_URL = r"^https://sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/\d{12}/[\w-]{1,80}$"
_TOPIC_ARN_RE = re.compile(r"^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")
_TRUE = TRUE_VALUES
_FALSE = frozenset({"false", "no", "0", "off"})


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names it and its value."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        self.name = name
        self.value = value
        self.expected = expected
        super().__init__(f"{name}={value!r} is invalid: expected {expected}")


class Env:
    """Reads and converts environment variables, raising ConfigError on bad values."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ: Mapping[str, str] = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str | None = None, *, pattern: str | None = None) -> str:
        value = self.raw(name)
        if value is None:
            if default is None:
                raise ConfigError(name, None, "a non-empty value")
            return default
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ConfigError(name, value, f"a value matching {pattern}")
        return value

    def optional_text(self, name: str) -> str | None:
        return self.raw(name)

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(name, value, "true or false")

    def integer(self, name: str, default: int, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(name, value, "an integer") from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ConfigError(name, value, f"an integer in [{minimum}, {maximum}]")
        return number

    def items(self, name: str, *, item: Callable[[str], bool] | None = None,
             expected: str = "a comma-separated list") -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return ()
        items = tuple(part.strip() for part in value.split(",") if part.strip())
        if item is not None:
            for part in items:
                if not item(part):
                    raise ConfigError(name, value, f"{expected} ({part!r} is not valid)")
        return items

    def json_object(self, name: str) -> dict[str, Any]:
        value = self.raw(name)
        if value is None:
            return {}
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(name, value, f"a JSON object ({exc.msg} at char {exc.pos})") from None
        if not isinstance(parsed, dict):
            raise ConfigError(name, value, "a JSON object")
        return parsed


def is_account_id(value: str) -> bool:
    return bool(_ACCOUNT_RE.fullmatch(value))


def is_region(value: str) -> bool:
    return bool(_REGION_RE.fullmatch(value))


@dataclass(frozen=True, slots=True)
class CommonConfig:
    """The settings every automation shares (docs/opskit.md, Shared configuration)."""

    automation: str
    dry_run: bool
    exemption_tag_key: str
    target_accounts: tuple[str, ...]
    target_regions: tuple[str, ...]
    assume_role_name: str
    alert_topic_arn: str | None
    home_region: str
    # Dispatch mode: the scheduled run sends one message per target here; workers run them.
    dispatch_queue_url: str | None = None

    @classmethod
    def from_env(cls, automation: str, environ: Mapping[str, str] | None = None) -> CommonConfig:
        env = Env(environ)
        topic = env.optional_text("ALERT_TOPIC_ARN")
        if topic is not None and not _TOPIC_ARN_RE.fullmatch(topic):
            raise ConfigError("ALERT_TOPIC_ARN", topic, "an SNS topic ARN")
        home_region = env.text("AWS_REGION", env.raw("AWS_DEFAULT_REGION") or "us-east-1")
        return cls(
            automation=automation,
            # Safe by default: a missing DRY_RUN means dry-run.
            dry_run=env.flag("DRY_RUN", default=True),
            exemption_tag_key=env.text("EXEMPTION_TAG_KEY", "opskit:exempt"),
            target_accounts=env.items(
                "TARGET_ACCOUNTS", item=lambda v: is_account_id(v) or v == "organization"
                or re.fullmatch(_PARENT, v) is not None,
                expected="12-digit account ids, organization, or OU ids, comma-separated"),
            target_regions=env.items(
                "TARGET_REGIONS", item=lambda v: is_region(v) or v == "all",
                expected="region names such as eu-west-1, or all, comma-separated"),
            assume_role_name=env.text("ASSUME_ROLE_NAME", "OpskitExecutionRole",
                                     pattern=_ROLE_NAME_RE.pattern),
            alert_topic_arn=topic,
            home_region=home_region,
            dispatch_queue_url=(env.text("DISPATCH_QUEUE_URL", pattern=_QUEUE_URL)
                                if env.raw("DISPATCH_QUEUE_URL") else None),
        )
