"""The unused-resource cleanup's configuration, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
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
        )
