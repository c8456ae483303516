"""The open-port remediation's configuration, read once from the environment."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "sg_open_port_remediation"
DEFAULT_SENSITIVE = "22,3389,3306,5432,1433,1521,6379,9200,27017,11211,2375"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class PortRange:
    first: int
    last: int

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    def overlaps(self, first: int, last: int) -> bool:
        return self.first <= last and first <= self.last

    def contains(self, first: int, last: int) -> bool:
        return self.first <= first and last <= self.last


def parse_ports(name: str, value: str | None, default: str) -> tuple[PortRange, ...]:
    """`22,3389,5900-5910` (or `none`) -> port ranges; ConfigError naming the variable."""
    text = default if value is None else value
    if text.strip().lower() == "none":
        return ()
    ranges = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise ConfigError(name, value, f"ports or ranges such as 22,5900-5910 ({part!r} is "
                                           "not one)") from None
        if not 0 <= low <= 65535 or not 0 <= high <= 65535:
            raise ConfigError(name, value, f"ports between 0 and 65535 ({part!r} is not)")
        if low > high:
            raise ConfigError(name, value, f"ranges written low-high ({part!r} is reversed)")
        ranges.append(PortRange(low, high))
    return tuple(ranges)


def parse_networks(name: str, value: str | None, *, allow_world: bool) -> tuple[Network, ...]:
    networks = []
    for part in (p.strip() for p in (value or "").split(",") if p.strip()):
        try:
            network = ipaddress.ip_network(part, strict=True)
        except ValueError:
            raise ConfigError(name, value, f"CIDR blocks such as 10.8.0.0/16 ({part!r} is "
                                           "not one)") from None
        if network.prefixlen == 0 and not allow_world:
            raise ConfigError(name, value, f"CIDR blocks narrower than the internet ({part!r})")
        networks.append(network)
    return tuple(networks)


@dataclass(frozen=True, slots=True)
class SgConfig:
    common: CommonConfig
    sensitive_ports: tuple[PortRange, ...]
    allowed_ports: tuple[PortRange, ...]
    broad_cidrs: tuple[Network, ...]
    replacement_cidrs: tuple[Network, ...]
    description_marker: str
    own_role_name: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SgConfig:
        env = Env(environ)
        sensitive = parse_ports("SENSITIVE_PORTS", env.raw("SENSITIVE_PORTS"), DEFAULT_SENSITIVE)
        if not sensitive:
            raise ConfigError("SENSITIVE_PORTS", env.raw("SENSITIVE_PORTS"),
                              "at least one port")
        broad = parse_networks("BROAD_CIDRS", env.raw("BROAD_CIDRS"), allow_world=False)
        replacements = parse_networks("REPLACEMENT_CIDRS", env.raw("REPLACEMENT_CIDRS"),
                                      allow_world=False)
        for block in replacements:
            for wide in broad:
                if block.version == wide.version and wide.subnet_of(block):  # type: ignore[arg-type]
                    raise ConfigError("REPLACEMENT_CIDRS", env.raw("REPLACEMENT_CIDRS"),
                                      f"blocks the next sweep would not revoke ({block} contains "
                                      f"the BROAD_CIDRS block {wide})")
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            sensitive_ports=sensitive,
            allowed_ports=parse_ports("ALLOWED_PORTS", env.raw("ALLOWED_PORTS"), "80,443"),
            broad_cidrs=broad,
            replacement_cidrs=replacements,
            description_marker=env.text("DESCRIPTION_MARKER", "opskit:allow"),
            own_role_name=env.text("OWN_ROLE_NAME", "opskit-sg-open-port-remediation"),
        )
