"""The scheduler's configuration, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from instance_scheduler.schedule import (
    ENFORCED,
    NO_STOP_NEW,
    RETAIN_RUNNING,
    Holidays,
    Schedule,
    ScheduleError,
    is_schedule_name,
    parse_holiday,
    parse_schedule,
)
from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "instance_scheduler"
RESOURCE_TYPES = ("ec2", "asg", "rds", "redshift", "ecs")
# What RESOURCE_TYPES means when unset: Redshift clusters and ECS services are chosen, since
# reading them costs calls at every run (every service of every ECS cluster is described).
DEFAULT_RESOURCE_TYPES = ("ec2", "asg", "rds")


class AsgStopMode(StrEnum):
    # min/max/desired saved in a tag, then 0/0/0: the group terminates its instances.
    SCALE_TO_ZERO = "scale-to-zero"
    # Launch, Terminate, HealthCheck, ReplaceUnhealthy and AZRebalance suspended, the instances
    # stopped (their EBS volumes kept); started and resumed at the start.
    SUSPEND = "suspend"


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
    # Every schedule enforced: act at every run, not only at transitions.
    enforce: bool = False
    last_action_tag_key: str = "opskit:scheduler-last"
    suspended_processes_tag_key: str = "opskit:suspended-processes"
    asg_stop_mode: AsgStopMode = AsgStopMode.SCALE_TO_ZERO
    # Named lists of days off, which a schedule names in `holidays:<name>`.
    holiday_calendars: Mapping[str, Holidays] = field(default_factory=dict)
    # A DB instance stop takes a manual snapshot first (StopDBInstance's DBSnapshotIdentifier);
    # the newest `rds_stop_snapshots_kept` of each database's are kept.
    rds_snapshot_on_stop: bool = False
    rds_stop_snapshots_kept: int = 3

    def written_tag_keys(self) -> frozenset[str]:
        """Every tag key the scheduler writes or removes (the role's OnlyTheSchedulerTags)."""
        return frozenset({self.override_tag_key, self.saved_capacity_tag_key,
                          self.last_action_tag_key, self.suspended_processes_tag_key})

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
        calendars = parse_holiday_calendars(env.json_object("HOLIDAY_CALENDARS"),
                                            env.raw("HOLIDAY_CALENDARS"))
        return cls(
            common=common,
            schedule_tag_key=env.text("SCHEDULE_TAG_KEY", "Schedule"),
            override_tag_key=env.text("OVERRIDE_TAG_KEY", "ScheduleOverride"),
            saved_capacity_tag_key=env.text("SAVED_CAPACITY_TAG_KEY", "opskit:saved-capacity"),
            default_timezone=default_timezone,
            schedules=parse_named_schedules(env.json_object("SCHEDULES"), env.raw("SCHEDULES"),
                                            default_timezone, calendars),
            resource_types=frozenset(types or DEFAULT_RESOURCE_TYPES),
            hibernate=env.flag("HIBERNATE", default=False),
            enforce=env.flag("ENFORCE_SCHEDULES", default=False),
            last_action_tag_key=env.text("LAST_ACTION_TAG_KEY", "opskit:scheduler-last"),
            suspended_processes_tag_key=env.text("SUSPENDED_PROCESSES_TAG_KEY",
                                                 "opskit:suspended-processes"),
            asg_stop_mode=AsgStopMode(env.text(
                "ASG_STOP_MODE", AsgStopMode.SCALE_TO_ZERO,
                pattern="|".join(mode.value for mode in AsgStopMode))),
            holiday_calendars=calendars,
            rds_snapshot_on_stop=env.flag("RDS_SNAPSHOT_ON_STOP", default=False),
            rds_stop_snapshots_kept=env.integer("RDS_STOP_SNAPSHOTS_KEPT", 3, minimum=1,
                                                maximum=100),
        )


def parse_holiday_calendars(raw: Mapping[str, Any], text: str | None) -> dict[str, Holidays]:
    """`{"fr": ["01-01", "05-01", "2027-05-06"]}`: each calendar's days off, dates or MM-DD
    days of every year, named in schedules as `holidays:fr`."""
    calendars: dict[str, Holidays] = {}
    for name, days in raw.items():
        if not is_schedule_name(name):
            raise ConfigError("HOLIDAY_CALENDARS", text, "names of lowercase letters, digits, - "
                              f"and _ ({name!r} is not)")
        if not isinstance(days, list) or not all(isinstance(d, str) for d in days):
            raise ConfigError("HOLIDAY_CALENDARS", text, f"calendar {name!r}: a list of "
                              "YYYY-MM-DD dates or MM-DD days of every year")
        found = Holidays()
        for day in days:
            try:
                found |= parse_holiday(day, f"calendar {name}", {})
            except ScheduleError as exc:
                raise ConfigError("HOLIDAY_CALENDARS", text, str(exc)) from None
        calendars[name] = found
    return calendars


def parse_named_schedules(raw: Mapping[str, Any], text: str | None,
                          default_timezone: ZoneInfo,
                          calendars: Mapping[str, Holidays] | None = None
                          ) -> dict[str, Schedule]:
    """`{"office-hours": "mon-fri 08:00-19:00 Europe/Paris"}` or, with holidays and options,
    `{"office-hours": {"schedule": "...", "holidays": ["2026-12-25"], "enforced": true,
    "retain_running": true, "stop_new_instances": false}}`."""
    schedules: dict[str, Schedule] = {}
    for name, spec in raw.items():
        where = f"schedule {name!r}"
        if not is_schedule_name(name):
            raise ConfigError("SCHEDULES", text, f"names of lowercase letters, digits, - and _ "
                                                 f"({name!r} is not)")
        body = {"schedule": spec} if isinstance(spec, str) else spec
        if not isinstance(body, dict) or not isinstance(body.get("schedule"), str):
            raise ConfigError("SCHEDULES", text, f"{where}: a string or "
                                                 '{"schedule": "...", "holidays": [...], '
                                                 '"enforced": false, "retain_running": false, '
                                                 '"stop_new_instances": true}')
        holidays = body.get("holidays", [])
        if not isinstance(holidays, list) or not all(isinstance(d, str) for d in holidays):
            raise ConfigError("SCHEDULES", text, f"{where}: holidays as a list of YYYY-MM-DD, "
                                                 "MM-DD or holiday calendar names")
        words = []
        for option, word, when in (("enforced", ENFORCED, True),
                                   ("retain_running", RETAIN_RUNNING, True),
                                   ("stop_new_instances", NO_STOP_NEW, False)):
            value = body.get(option, not when)
            if not isinstance(value, bool):
                raise ConfigError("SCHEDULES", text, f"{where}: {option} as true or false")
            if value is when:
                words.append(word)
        extra = f" holidays:{'+'.join(holidays)}" if holidays else ""
        try:
            schedules[name] = parse_schedule(" ".join([*words, body["schedule"]]) + extra,
                                             default_timezone=default_timezone,
                                             calendars=calendars)
        except ScheduleError as exc:
            raise ConfigError("SCHEDULES", text, f"{where}: {exc}") from None
    return schedules
