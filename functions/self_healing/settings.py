"""The self-healing's configuration, read once from the environment."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass

from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "self_healing"
REMEDIES = ("auto", "reboot", "stop-start", "redeploy", "replace", "report")


@dataclass(frozen=True, slots=True)
class HealConfig:
    common: CommonConfig
    # On a target: its opt-in and the remedy it accepts. On an alarm: a request, which may
    # only narrow what the target (or a mapping) grants.
    heal_tag_key: str
    healed_tag_key: str
    # On an Auto Scaling group (or its instance): its instances hold state, never replaced.
    stateful_tag_key: str
    mappings: Mapping[str, str]
    cooldown_minutes: int
    max_actions_per_hour: int
    flap_threshold: int

    def mapped(self, alarm: str) -> str | None:
        """The remedy of the first mapping whose glob matches the alarm's name."""
        for pattern, remedy in self.mappings.items():
            if fnmatch.fnmatchcase(alarm, pattern):
                return remedy
        return None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HealConfig:
        env = Env(environ)
        raw = env.json_object("HEAL_MAPPINGS")
        mappings: dict[str, str] = {}
        for pattern, remedy in raw.items():
            if remedy not in REMEDIES:
                raise ConfigError("HEAL_MAPPINGS", env.raw("HEAL_MAPPINGS"),
                                  f"alarm globs mapped to one of {', '.join(REMEDIES)} "
                                  f"({pattern!r} maps to {remedy!r})")
            mappings[pattern] = str(remedy)
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            heal_tag_key=env.text("HEAL_TAG_KEY", "opskit:heal"),
            healed_tag_key=env.text("HEALED_TAG_KEY", "opskit:healed-at"),
            stateful_tag_key=env.text("STATEFUL_TAG_KEY", "opskit:stateful"),
            mappings=mappings,
            cooldown_minutes=env.integer("COOLDOWN_MINUTES", 30, minimum=1, maximum=1440),
            max_actions_per_hour=env.integer("MAX_ACTIONS_PER_HOUR", 5, minimum=1,
                                             maximum=1000),
            flap_threshold=env.integer("FLAP_THRESHOLD", 3, minimum=2, maximum=100),
        )
