"""Which ingress rules open a sensitive port to the world, and why (pure, no AWS)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opskit.tags import tags_to_dict
from sg_open_port_remediation.settings import Network, PortRange, SgConfig, is_world_open

ALL_TRAFFIC = "-1"
# Protocols whose FromPort/ToPort are ports (ICMP uses them for type and code).
PORT_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}
# The services of the default sensitive ports (docs/sg_open_port_remediation.md), named in the
# reason when a SENSITIVE_PORTS entry is one of these ports or ranges, or one port inside them.
SERVICES = {(20, 21): "FTP", (22, 22): "SSH", (23, 23): "Telnet", (135, 135): "RPC",
            (137, 139): "NetBIOS", (445, 445): "SMB", (1433, 1434): "SQL Server",
            (1521, 1521): "Oracle", (2375, 2376): "Docker API", (2483, 2484): "Oracle",
            (3306, 3306): "MySQL", (3389, 3389): "RDP", (5432, 5432): "PostgreSQL",
            (5601, 5601): "Kibana", (6379, 6379): "Redis", (7199, 7199): "Cassandra",
            (8888, 8888): "Cassandra", (9092, 9092): "Kafka", (9160, 9160): "Cassandra",
            (9200, 9200): "Elasticsearch", (9300, 9300): "Elasticsearch",
            (11211, 11211): "Memcached", (27017, 27018): "MongoDB"}


@dataclass(frozen=True, slots=True)
class Rule:
    """One ingress or egress rule as DescribeSecurityGroupRules returns it (one CIDR each)."""

    rule_id: str
    group_id: str
    protocol: str
    from_port: int
    to_port: int
    cidr: str | None
    description: str = ""
    is_egress: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, rule: Mapping[str, Any]) -> Rule:
        return cls(
            rule_id=str(rule["SecurityGroupRuleId"]),
            group_id=str(rule["GroupId"]),
            protocol=str(rule.get("IpProtocol", ALL_TRAFFIC)).lower(),
            from_port=int(rule.get("FromPort", -1)),
            to_port=int(rule.get("ToPort", -1)),
            cidr=rule.get("CidrIpv4") or rule.get("CidrIpv6"),
            description=str(rule.get("Description", "")),
            is_egress=bool(rule.get("IsEgress")),
            tags=tags_to_dict(rule.get("Tags")),
            raw=rule,
        )

    @property
    def ports(self) -> str:
        if self.protocol == ALL_TRAFFIC:
            return "all traffic"
        proto = PORT_PROTOCOLS.get(self.protocol, self.protocol)
        if self.from_port == -1:
            return f"{proto} all ports"
        span = (str(self.from_port) if self.from_port == self.to_port
                else f"{self.from_port}-{self.to_port}")
        return f"{proto} {span}"

    @property
    def network(self) -> Network | None:
        try:
            return ipaddress.ip_network(self.cidr, strict=False) if self.cidr else None
        except ValueError:
            return None

    def to_report(self) -> dict[str, Any]:
        """The rule in full, as AuthorizeSecurityGroupIngress takes it back."""
        permission: dict[str, Any] = {"IpProtocol": self.protocol}
        if self.protocol != ALL_TRAFFIC:
            permission.update(FromPort=self.from_port, ToPort=self.to_port)
        key, cidr_key = (("Ipv6Ranges", "CidrIpv6") if ":" in (self.cidr or "")
                         else ("IpRanges", "CidrIp"))
        entry = {cidr_key: self.cidr}
        if self.description:
            entry["Description"] = self.description
        permission[key] = [entry]
        return {"security_group_rule_id": self.rule_id, "ip_permission": permission,
                "tags": dict(self.tags)}


def _too_wide(network: Network, config: SgConfig) -> str | None:
    if network.prefixlen == 0:
        return "the internet"
    if is_world_open(network, config.min_fixed_prefix):
        return f"public address space wider than /{config.min_fixed_prefix[network.version]}"
    for broad in config.broad_cidrs:
        if network.version == broad.version and broad.subnet_of(network):  # type: ignore[arg-type]
            return f"a range containing {broad}"
    return None


def _name(sensitive: PortRange) -> str:
    for (first, last), service in SERVICES.items():
        exact = (first, last) == (sensitive.first, sensitive.last)
        if exact or (sensitive.first == sensitive.last and first <= sensitive.first <= last):
            return f"{sensitive} ({service})"
    return str(sensitive)


def violation(rule: Rule, config: SgConfig) -> str | None:
    """Why this rule must go, or None. Only ingress rules to CIDRs are judged: rules that name a
    security group or a prefix list are someone's deliberate choice."""
    network = rule.network
    if rule.is_egress or network is None:
        return None
    wide = _too_wide(network, config)
    if wide is None:
        return None
    if rule.protocol == ALL_TRAFFIC:
        return f"all traffic open to {rule.cidr} ({wide})"
    if rule.protocol not in PORT_PROTOCOLS:
        return None  # ICMP and other protocols carry no ports
    first, last = rule.from_port, rule.to_port
    if first == -1 and last == -1:  # every port of the protocol
        first, last = 0, 65535
    if any(allowed.contains(first, last) for allowed in config.allowed_ports):
        return None
    hits = [_name(r) for r in config.sensitive_ports if r.overlaps(first, last)]
    if not hits:
        return None
    what = ", ".join(hits[:3]) + (f" and {len(hits) - 3} more" if len(hits) > 3 else "")
    return f"{rule.ports} open to {rule.cidr} ({wide}): covers {what}"
