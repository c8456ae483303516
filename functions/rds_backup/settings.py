"""The RDS backup's configuration, read once from the environment; bad values fail before any
change, naming the variable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from opskit.config import CommonConfig, ConfigError, Env, is_region

AUTOMATION = "rds_backup"
_KMS_KEY = re.compile(r"^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/-]+$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TAG = re.compile(r"^([^=]{1,128})=(.{0,256})$")


@dataclass(frozen=True, slots=True)
class ExportSettings:
    bucket: str
    prefix: str
    role_arn: str
    kms_key_arn: str


@dataclass(frozen=True, slots=True)
class BackupConfig:
    common: CommonConfig
    selector_tag: tuple[str, str] | None
    identifier_pattern: re.Pattern[str] | None
    retention_days: int
    keep_last: int
    max_concurrent: int
    export: ExportSettings | None
    dr_region: str | None
    dr_kms_key_arn: str | None
    quota_warning_percent: int
    report_success: bool

    def selects(self, identifier: str, tags: Mapping[str, str]) -> bool:
        """Tag and pattern must both match when both are set; one alone is enough otherwise."""
        by_tag = (self.selector_tag is None
                  or tags.get(self.selector_tag[0]) == self.selector_tag[1])
        by_name = (self.identifier_pattern is None
                   or self.identifier_pattern.fullmatch(identifier) is not None)
        return by_tag and by_name

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BackupConfig:
        env = Env(environ)
        common = CommonConfig.from_env(AUTOMATION, environ)
        selector = env.raw("SELECTOR_TAG") or "Backup=nightly"
        tag = None
        if selector.lower() != "none":
            match = _TAG.fullmatch(selector)
            if match is None:
                raise ConfigError("SELECTOR_TAG", selector, "Key=Value, such as Backup=nightly")
            tag = (match.group(1), match.group(2))
        pattern_text = env.raw("IDENTIFIER_PATTERN")
        pattern = None
        if pattern_text is not None:
            try:
                pattern = re.compile(pattern_text)
            except re.error as exc:
                raise ConfigError("IDENTIFIER_PATTERN", pattern_text,
                                  f"a regular expression ({exc})") from None
        if tag is None and pattern is None:
            raise ConfigError("IDENTIFIER_PATTERN", None, "a regular expression when SELECTOR_TAG "
                              "is none: backing up every database is never implied")
        bucket = env.raw("EXPORT_BUCKET")
        export = None
        if bucket is not None:
            if not _BUCKET.fullmatch(bucket):
                raise ConfigError("EXPORT_BUCKET", bucket, "an S3 bucket name")
            export = ExportSettings(
                bucket=bucket,
                prefix=env.text("EXPORT_PREFIX", "rds-exports").strip("/"),
                role_arn=env.text("EXPORT_ROLE_ARN", pattern=_ROLE_ARN.pattern),
                kms_key_arn=env.text("EXPORT_KMS_KEY_ARN", pattern=_KMS_KEY.pattern),
            )
        dr_region = env.raw("DR_REGION")
        if dr_region is not None and not is_region(dr_region):
            raise ConfigError("DR_REGION", dr_region, "a region name such as eu-central-1")
        if dr_region is not None and dr_region == common.home_region:
            raise ConfigError("DR_REGION", dr_region, "a region other than the stack's own")
        dr_key = env.raw("DR_KMS_KEY_ARN")
        if dr_key is not None:
            if not _KMS_KEY.fullmatch(dr_key):
                raise ConfigError("DR_KMS_KEY_ARN", dr_key, "a KMS key or alias ARN")
            if dr_region is None or dr_key.split(":")[3] != dr_region:
                raise ConfigError("DR_KMS_KEY_ARN", dr_key,
                                  f"a key in DR_REGION ({dr_region or 'unset'})")
        return cls(
            common=common,
            selector_tag=tag,
            identifier_pattern=pattern,
            retention_days=env.integer("RETENTION_DAYS", 30, minimum=1, maximum=3650),
            keep_last=env.integer("KEEP_LAST", 3, minimum=1, maximum=100),
            max_concurrent=env.integer("MAX_CONCURRENT_EXPORTS", 5, minimum=1, maximum=20),
            export=export,
            dr_region=dr_region,
            dr_kms_key_arn=dr_key,
            quota_warning_percent=env.integer("QUOTA_WARNING_PERCENT", 90, minimum=1,
                                              maximum=100),
            # Backups are routine: by default only failures and notes reach the alert topic.
            report_success=env.flag("REPORT_SUCCESS", default=False),
        )
