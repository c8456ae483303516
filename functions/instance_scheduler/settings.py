"""The scheduler's configuration, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from instance_scheduler.schedule import Schedule, ScheduleError, is_schedule_name, parse_schedule
from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "instance_scheduler"
RESOURCE_TYPES = ("ec2", "asg", "rds")


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    common: CommonConfig
    schedule_tag_key: str
    override_tag_key: str
    saved_capacity_tag_key: str
    default_timezone: ZoneInfo
    schedules: Mapping[str, Schedule]
    resource_types: frozenset[str]
    hibernate: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SchedulerConfig:
        env = Env(environ)
        common = CommonConfig.from_env(AUTOMATION, environ)
        tz_name = env.text("DEFAULT_TIMEZONE", "UTC")
        try:
            default_timezone = ZoneInfo(tz_name)
        except (KeyError, ValueError):
            raise ConfigError("DEFAULT_TIMEZONE", tz_name, "an IANA time zone such as "
                              "Europe/Paris") from None
        types = env.items("RESOURCE_TYPES", item=lambda t: t in RESOURCE_TYPES,
                          expected=f"some of {', '.join(RESOURCE_TYPES)}")
        return cls(
            common=common,
            schedule_tag_key=env.text("SCHEDULE_TAG_KEY", "Schedule"),
            override_tag_key=env.text("OVERRIDE_TAG_KEY", "ScheduleOverride"),
            saved_capacity_tag_key=env.text("SAVED_CAPACITY_TAG_KEY", "opskit:saved-capacity"),
            default_timezone=default_timezone,
            schedules=parse_named_schedules(env.json_object("SCHEDULES"), env.raw("SCHEDULES"),
                                            default_timezone),
            resource_types=frozenset(types or RESOURCE_TYPES),
            hibernate=env.flag("HIBERNATE", default=False),
        )


def parse_named_schedules(raw: Mapping[str, Any], text: str | None,
                          default_timezone: ZoneInfo) -> dict[str, Schedule]:
    """`{"office-hours": "mon-fri 08:00-19:00 Europe/Paris"}` or, with holidays,
    `{"office-hours": {"schedule": "...", "holidays": ["2026-12-25"]}}`."""
    schedules: dict[str, Schedule] = {}
    for name, spec in raw.items():
        where = f"schedule {name!r}"
        if not is_schedule_name(name):
            raise ConfigError("SCHEDULES", text, f"names of lowercase letters, digits, - and _ "
                                                 f"({name!r} is not)")
        body = {"schedule": spec} if isinstance(spec, str) else spec
        if not isinstance(body, dict) or not isinstance(body.get("schedule"), str):
            raise ConfigError("SCHEDULES", text, f"{where}: a string or "
                                                 '{"schedule": "...", "holidays": [...]}')
        holidays = body.get("holidays", [])
        if not isinstance(holidays, list) or not all(isinstance(d, str) for d in holidays):
            raise ConfigError("SCHEDULES", text, f"{where}: holidays as a list of YYYY-MM-DD")
        extra = f" holidays:{'+'.join(holidays)}" if holidays else ""
        try:
            schedules[name] = parse_schedule(body["schedule"] + extra,
                                             default_timezone=default_timezone)
        except ScheduleError as exc:
            raise ConfigError("SCHEDULES", text, f"{where}: {exc}") from None
    return schedules
