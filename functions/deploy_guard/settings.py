"""The deployment guard's configuration, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opskit.config import CommonConfig, Env

AUTOMATION = "deploy_guard"
_PARAMETER_PREFIX = r"/[A-Za-z0-9_./-]{0,900}/"


@dataclass(frozen=True, slots=True)
class GuardConfig:
    common: CommonConfig
    # Smoke checks may use plain http only when allowed (test stages behind a VPN, say).
    allow_http: bool
    # RFC 1918, carrier-grade NAT and IPv6 unique-local addresses; never link-local, the
    # instance metadata service or loopback, whatever this says.
    allow_private_networks: bool
    # Where the checks live in SSM: <prefix><application>/<deployment group> for a hook; a
    # pipeline's UserParameters may name any parameter under it.
    checks_parameter_prefix: str
    # How long one pipeline invocation watches before it hands over a continuation token.
    invocation_wait_seconds: int
    # The longest bake period a declaration may ask for.
    max_bake_seconds: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GuardConfig:
        env = Env(environ)
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            allow_http=env.flag("ALLOW_HTTP", default=False),
            allow_private_networks=env.flag("ALLOW_PRIVATE_NETWORKS", default=False),
            checks_parameter_prefix=env.text("CHECKS_PARAMETER_PREFIX", "/opskit/deploy-guard/",
                                             pattern=_PARAMETER_PREFIX),
            invocation_wait_seconds=env.integer("INVOCATION_WAIT_SECONDS", 60, minimum=0,
                                                maximum=120),
            max_bake_seconds=env.integer("MAX_BAKE_SECONDS", 3600, minimum=0, maximum=86_400),
        )
