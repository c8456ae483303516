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
    heal_tag_key: str
    healed_tag_key: str
    mappings: Mapping[str, str]
    cooldown_minutes: int
    max_actions_per_hour: int
    flap_threshold: int

    def remedy_for(self, alarm: str, tags: Mapping[str, str]) -> str | None:
        """The alarm's tag wins; else the first mapping whose glob matches the alarm's name."""
        if self.heal_tag_key in tags:
            return tags[self.heal_tag_key].strip().lower()
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
            mappings=mappings,
            cooldown_minutes=env.integer("COOLDOWN_MINUTES", 30, minimum=1, maximum=1440),
            max_actions_per_hour=env.integer("MAX_ACTIONS_PER_HOUR", 5, minimum=1,
                                             maximum=1000),
            flap_threshold=env.integer("FLAP_THRESHOLD", 3, minimum=2, maximum=100),
        )
