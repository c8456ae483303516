"""The unused-resource cleanup's configuration, read once from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "resource_cleanup"
VOLUME = "ebs-volume"
ADDRESS = "elastic-ip"
SNAPSHOT = "ebs-snapshot"
IMAGE = "ami"
INTERFACE = "network-interface"
BALANCER = "load-balancer"
LOG_GROUP = "log-group"
STOPPED = "stopped-instance"
TYPES = (VOLUME, ADDRESS, SNAPSHOT, IMAGE, INTERFACE, BALANCER, LOG_GROUP, STOPPED)
# AMIs are opt-in: an image can be launched again by a tool this account cannot see.
DEFAULT_TYPES = tuple(t for t in TYPES if t != IMAGE)
CLEANUP_TAG = "opskit:cleanup-after"
FINAL_COPY_TAG = "opskit:final-snapshot-of"
RETENTIONS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
              2557, 2922, 3288, 3653)  # the values PutRetentionPolicy accepts
# Tags that AWS services write on what they create and keep (users cannot write `aws:` keys):
# a resource carrying one belongs to that service, which removes it itself. Key, or key prefix
# (ending in ":"), and the owner's name.
MANAGERS = (("aws:cloudformation:stack-id", "CloudFormation"),
            ("aws:backup:", "AWS Backup"),  # aws:backup:source-resource on its recovery points
            ("aws:dlm:lifecycle-policy-id", "Data Lifecycle Manager"))
# Log groups that hold an audit trail: never given a retention unless a prefix names them.
_AUDIT = re.compile(r"cloudtrail|audit", re.IGNORECASE)
_PREFIX = re.compile(r"^[\w\-/.#:]{1,512}$")  # the characters a log group name may hold


def is_audit_log_group(name: str) -> bool:
    """CloudTrail's and audit log groups (`aws-cloudtrail-logs-...`, `/audit/...`)."""
    return name.lower().startswith("aws-cloudtrail-logs") or _AUDIT.search(name) is not None


def retention_prefix(name: str, prefixes: Sequence[str]) -> str | None:
    """The listed prefix under which a log group may get a retention, or None. An audit group
    needs a prefix that names it as one (`aws-cloudtrail-logs`, `/audit/`): `/aws/` is not
    enough for `/aws/cloudtrail/org`."""
    audit = is_audit_log_group(name)
    for prefix in prefixes:
        if name.startswith(prefix) and (not audit or is_audit_log_group(prefix)):
            return prefix
    return None


def managed_by(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """(owner, tag key) when an AWS service owns the resource, else None."""
    for key in sorted(tags):
        for name, owner in MANAGERS:
            if key == name or (name.endswith(":") and key.startswith(name)):
                return owner, key
    return None


@dataclass(frozen=True, slots=True)
class CleanupConfig:
    common: CommonConfig
    types: frozenset[str]
    report_only: frozenset[str]
    grace_days: int
    min_age_hours: int
    snapshot_age_days: int
    image_age_days: int
    stopped_days: int
    log_retention_days: int
    snapshot_before_delete: bool
    # Log-group name prefixes that may be given a retention; none: no retention anywhere.
    log_retention_prefixes: tuple[str, ...] = ()
    # Resources owned by CloudFormation, AWS Backup or Data Lifecycle Manager are cleaned too.
    clean_managed: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CleanupConfig:
        env = Env(environ)
        expected = f"resource types among {', '.join(TYPES)}"
        types = env.items("RESOURCE_TYPES", item=lambda t: t in TYPES, expected=expected)
        report_only = env.items("REPORT_ONLY_TYPES", item=lambda t: t in TYPES,
                                expected=expected)
        retention = env.integer("LOG_RETENTION_DAYS", 30, minimum=1, maximum=3653)
        if retention not in RETENTIONS:
            raise ConfigError("LOG_RETENTION_DAYS", retention, "a CloudWatch Logs retention ("
                              f"{', '.join(map(str, RETENTIONS))})")
        prefixes = env.items("LOG_RETENTION_PREFIXES",
                             item=lambda p: _PREFIX.fullmatch(p) is not None,
                             expected="log group name prefixes such as /aws/lambda/, "
                                      "comma-separated")
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            types=frozenset(types or DEFAULT_TYPES),
            # Stopped instances are only ever reported: stopping was a person's choice.
            report_only=frozenset(report_only) | {STOPPED},
            grace_days=env.integer("GRACE_DAYS", 7, minimum=1, maximum=365),
            min_age_hours=env.integer("MIN_AGE_HOURS", 24, minimum=0, maximum=24 * 365),
            snapshot_age_days=env.integer("SNAPSHOT_AGE_DAYS", 30, minimum=1, maximum=3650),
            image_age_days=env.integer("IMAGE_AGE_DAYS", 90, minimum=1, maximum=3650),
            stopped_days=env.integer("STOPPED_DAYS", 30, minimum=1, maximum=3650),
            log_retention_days=retention,
            snapshot_before_delete=env.flag("SNAPSHOT_BEFORE_DELETE", default=True),
            log_retention_prefixes=prefixes,
            clean_managed=env.flag("CLEAN_MANAGED_RESOURCES", default=False),
        )
