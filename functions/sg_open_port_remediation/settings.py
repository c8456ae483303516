"""The open-port remediation's configuration, read once from the environment."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from opskit.config import CommonConfig, ConfigError, Env

AUTOMATION = "sg_open_port_remediation"
# docs/sg_open_port_remediation.md, "Sensitive ports": Prowler's per-port checks, NetBIOS/SMB and
# the Docker API, in port order (the order reasons list them in).
DEFAULT_SENSITIVE = ("20-21,22,23,135,137-139,445,1433-1434,1521,2375-2376,2483-2484,3306,3389,"
                     "5432,5601,6379,7199,8888,9092,9160,9200,9300,11211,27017-27018")
# A public range at least this narrow is a fixed range; wider, it is the internet in practice. The
# same thresholds, and the same comparison, as the S3 remediation's aws:SourceIp check (IPv4 /8,
# IPv6 /32, docs/s3_public_remediation.md), which follows S3's definition of "public".
DEFAULT_MIN_FIXED_PREFIX = {4: 8, 6: 32}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Ranges that are not public address space: a rule inside them admits no internet source.
# IANA special-purpose registries (RFC 6890), as cited in the docs' world-open table.
RESERVED: tuple[Network, ...] = (
    *ipaddress.collapse_addresses(ipaddress.IPv4Network(n) for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")),
    *ipaddress.collapse_addresses(ipaddress.IPv6Network(n) for n in (
        "::/128", "::1/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8")),
)


def is_public(network: Network) -> bool:
    """False only for a range wholly inside one (collapsed) reserved block."""
    return not any(network.version == block.version
                   and network.subnet_of(block)  # type: ignore[arg-type]
                   for block in RESERVED)


def is_world_open(network: Network, min_fixed_prefix: Mapping[int, int]) -> bool:
    """The internet, or a public range wider than the family's threshold."""
    return network.prefixlen == 0 or (network.prefixlen < min_fixed_prefix[network.version]
                                      and is_public(network))


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


def parse_prefix(name: str, value: str | None, version: int) -> int:
    """A prefix length of the family (1: only the internet is world-open); empty = the default."""
    bits = 32 if version == 4 else 128
    text = (value or "").strip()
    if not text:
        return DEFAULT_MIN_FIXED_PREFIX[version]
    if not text.isdigit() or not 1 <= int(text) <= bits:
        raise ConfigError(name, value, f"a prefix length between 1 and {bits}")
    return int(text)


@dataclass(frozen=True, slots=True)
class SgConfig:
    common: CommonConfig
    sensitive_ports: tuple[PortRange, ...]
    allowed_ports: tuple[PortRange, ...]
    broad_cidrs: tuple[Network, ...]
    replacement_cidrs: tuple[Network, ...]
    description_marker: str
    own_role_name: str
    # address family (4, 6) -> the shortest prefix of a public range that is not world-open
    min_fixed_prefix: Mapping[int, int]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SgConfig:
        env = Env(environ)
        fixed = {4: parse_prefix("MIN_FIXED_PREFIX_V4", env.raw("MIN_FIXED_PREFIX_V4"), 4),
                 6: parse_prefix("MIN_FIXED_PREFIX_V6", env.raw("MIN_FIXED_PREFIX_V6"), 6)}
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
            if is_world_open(block, fixed):
                raise ConfigError("REPLACEMENT_CIDRS", env.raw("REPLACEMENT_CIDRS"),
                                  f"blocks the next sweep would not revoke ({block} is public "
                                  f"and wider than /{fixed[block.version]})")
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            sensitive_ports=sensitive,
            allowed_ports=parse_ports("ALLOWED_PORTS", env.raw("ALLOWED_PORTS"), "80,443"),
            broad_cidrs=broad,
            replacement_cidrs=replacements,
            description_marker=env.text("DESCRIPTION_MARKER", "opskit:allow"),
            own_role_name=env.text("OWN_ROLE_NAME", "opskit-sg-open-port-remediation"),
            min_fixed_prefix=fixed,
        )
