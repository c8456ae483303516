"""The key-age auditor's configuration, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "access_key_auditor"


class Mode(StrEnum):
    REPORT = "report"  # report old keys and what enforce would do; change no key or secret
    ENFORCE = "enforce"  # also deactivate overdue keys and delete long-inactive ones


@dataclass(frozen=True, slots=True)
class AuditorConfig:
    common: CommonConfig
    mode: Mode
    warn_days: int
    max_key_age_days: int
    grace_days: int
    delete_after_days: int
    check_kms: bool
    enable_kms_rotation: bool
    # Enforce never deactivates a key used this recently, unless the stack says so.
    recent_use_days: int = 7
    deactivate_recently_used: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuditorConfig:
        env = Env(environ)
        mode = env.text("AUDIT_MODE", Mode.REPORT.value)
        if mode not in {m.value for m in Mode}:
            raise ConfigError("AUDIT_MODE", mode, "report or enforce")
        max_age = env.integer("MAX_KEY_AGE_DAYS", 90, minimum=1, maximum=3650)
        warn = env.integer("WARN_DAYS", 80, minimum=1, maximum=3650)
        if warn > max_age:
            raise ConfigError("WARN_DAYS", warn, f"at most MAX_KEY_AGE_DAYS ({max_age})")
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            mode=Mode(mode),
            warn_days=warn,
            max_key_age_days=max_age,
            grace_days=env.integer("GRACE_DAYS", 7, minimum=0, maximum=365),
            delete_after_days=env.integer("DELETE_AFTER_DAYS", 30, minimum=1, maximum=3650),
            check_kms=env.flag("CHECK_KMS", default=True),
            enable_kms_rotation=env.flag("ENABLE_KMS_ROTATION", default=False),
            recent_use_days=env.integer("RECENT_USE_DAYS", 7, minimum=0, maximum=365),
            deactivate_recently_used=env.flag("DEACTIVATE_RECENTLY_USED", default=False),
        )
