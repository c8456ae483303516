"""The public-S3 remediation's configuration, read once from the environment."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "s3_public_remediation"
_BUCKET_PATTERN = re.compile(r"[a-z0-9.*?-]{1,63}")


class Mode(StrEnum):
    REMEDIATE = "remediate"  # block public access, strip the public grants and statements
    REPORT = "report"  # report the finding, change nothing
    ALLOW = "allow"  # an intended public bucket (a website): neither reported nor changed


@dataclass(frozen=True, slots=True)
class S3Config:
    common: CommonConfig
    default_mode: Mode
    mode_tag_key: str
    allowed_buckets: tuple[str, ...]
    own_role_name: str

    def allow_listed(self, bucket: str) -> bool:
        return any(fnmatch.fnmatchcase(bucket, pattern) for pattern in self.allowed_buckets)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> S3Config:
        env = Env(environ)
        mode = env.text("REMEDIATION_MODE", Mode.REMEDIATE.value)
        if mode not in {Mode.REMEDIATE.value, Mode.REPORT.value}:
            raise ConfigError("REMEDIATION_MODE", mode, "remediate or report")
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            default_mode=Mode(mode),
            mode_tag_key=env.text("MODE_TAG_KEY", "opskit:public-access"),
            allowed_buckets=env.items(
                "ALLOWED_PUBLIC_BUCKETS",
                item=lambda name: _BUCKET_PATTERN.fullmatch(name) is not None,
                expected="bucket names or glob patterns such as www-*, comma-separated"),
            own_role_name=env.text("OWN_ROLE_NAME", "opskit-s3-public-remediation"),
        )

