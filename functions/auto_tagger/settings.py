"""The auto-tagger's configuration, read once from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from opskit.config import CommonConfig, Env

AUTOMATION = "auto_tagger"
_KEY_PREFIX = re.compile(r"^[\w.:/=+@-]{1,100}$")


@dataclass(frozen=True, slots=True)
class TaggerConfig:
    common: CommonConfig
    tag_prefix: str
    own_role_name: str
    required_tags: tuple[str, ...]
    report_tagged: bool

    @property
    def creator_arn_key(self) -> str:
        return f"{self.tag_prefix}creator-arn"

    @property
    def creator_key(self) -> str:
        return f"{self.tag_prefix}creator"

    @property
    def created_at_key(self) -> str:
        return f"{self.tag_prefix}created-at"

    @property
    def event_id_key(self) -> str:
        return f"{self.tag_prefix}cloudtrail-event-id"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TaggerConfig:
        env = Env(environ)
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            tag_prefix=env.text("TAG_PREFIX", "opskit:", pattern=_KEY_PREFIX.pattern),
            own_role_name=env.text("OWN_ROLE_NAME", "opskit-auto-tagger"),
            required_tags=env.items("REQUIRED_TAGS"),
            # Tagging is routine: by default only failures reach the alert topic.
            report_tagged=env.flag("REPORT_TAGGED", default=False),
        )
