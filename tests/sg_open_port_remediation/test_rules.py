"""The violation rules, table-driven: which ingress rules must go, and the reason given."""

from __future__ import annotations

from typing import Any

import pytest

from opskit.config import ConfigError
from sg_open_port_remediation.rules import Rule, violation
from sg_open_port_remediation.settings import SgConfig


def rule(protocol: str = "tcp", ports: tuple[int, int] = (22, 22), cidr: str = "0.0.0.0/0",
         **extra: Any) -> Rule:
    api: dict[str, Any] = {"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1",
                           "IpProtocol": protocol, "FromPort": ports[0], "ToPort": ports[1],
                           "IsEgress": False, **extra}
    api["CidrIpv6" if ":" in cidr else "CidrIpv4"] = cidr
    return Rule.from_api(api)


def config(**env: str) -> SgConfig:
    return SgConfig.from_env({"AWS_REGION": "eu-west-1", **env})


VIOLATIONS = [
    ("ssh", rule(), {}, "tcp 22 open to 0.0.0.0/0 (the internet): covers 22 (SSH)"),
    ("rdp over ipv6", rule(ports=(3389, 3389), cidr="::/0"), {},
     "tcp 3389 open to ::/0 (the internet): covers 3389 (RDP)"),
    ("range covering several", rule(ports=(1000, 6000)), {},
     "tcp 1000-6000 open to 0.0.0.0/0 (the internet): covers 1433-1434 (SQL Server), "
     "1521 (Oracle), 2375-2376 (Docker API) and 5 more"),
    ("all traffic", rule("-1", (-1, -1)), {}, "all traffic open to 0.0.0.0/0 (the internet)"),
    ("all ports of tcp", rule("tcp", (-1, -1), "::/0"), {},
     "tcp all ports open to ::/0 (the internet): covers 20-21 (FTP), 22 (SSH), 23 (Telnet) "
     "and 20 more"),
    ("protocol number", rule("6", (27017, 27017)), {},
     "tcp 27017 open to 0.0.0.0/0 (the internet): covers 27017-27018 (MongoDB)"),
    ("memcached udp", rule("udp", (11211, 11211)), {},
     "udp 11211 open to 0.0.0.0/0 (the internet): covers 11211 (Memcached)"),
    ("configured broad cidr", rule(cidr="10.0.0.0/8"), {"BROAD_CIDRS": "10.0.0.0/8"},
     "tcp 22 open to 10.0.0.0/8 (a range containing 10.0.0.0/8): covers 22 (SSH)"),
    ("wider than a broad cidr", rule(cidr="10.0.0.0/15"), {"BROAD_CIDRS": "10.1.0.0/16"},
     "tcp 22 open to 10.0.0.0/15 (a range containing 10.1.0.0/16): covers 22 (SSH)"),
    ("half the internet", rule(cidr="0.0.0.0/1"), {"BROAD_CIDRS": "10.0.0.0/8"},
     "tcp 22 open to 0.0.0.0/1 (public address space wider than /8): covers 22 (SSH)"),
    ("configured range", rule(ports=(5901, 5901)), {"SENSITIVE_PORTS": "5900-5910"},
     "tcp 5901 open to 0.0.0.0/0 (the internet): covers 5900-5910"),
    ("allowed port list emptied", rule(ports=(0, 65535)), {"ALLOWED_PORTS": "none"},
     "tcp 0-65535 open to 0.0.0.0/0 (the internet): covers 20-21 (FTP), 22 (SSH), 23 (Telnet) "
     "and 20 more"),
]

NOT_VIOLATIONS = [
    ("https", rule(ports=(443, 443)), {}),
    ("http over ipv6", rule(ports=(80, 80), cidr="::/0"), {}),
    ("a non-sensitive port", rule(ports=(8080, 8080)), {}),
    ("a narrow range", rule(cidr="203.0.113.0/24"), {}),
    ("a private range without broad cidrs", rule(cidr="10.0.0.0/8"), {}),
    ("narrower than a broad cidr", rule(cidr="10.1.0.0/16"), {"BROAD_CIDRS": "10.0.0.0/8"}),
    ("as wide as a broad cidr but elsewhere", rule(cidr="10.2.0.0/16"),
     {"BROAD_CIDRS": "10.1.0.0/16"}),
    ("icmp", rule("icmp", (-1, -1)), {}),
    ("icmpv6 by number", rule("58", (-1, -1), "::/0"), {}),
    ("egress", rule(IsEgress=True), {}),
    ("port removed from the list", rule(), {"SENSITIVE_PORTS": "3389"}),
    ("port allowed by configuration", rule(ports=(22, 22)), {"ALLOWED_PORTS": "22,443"}),
]


@pytest.mark.parametrize(("case", "r", "env", "reason"), VIOLATIONS,
                         ids=[c[0] for c in VIOLATIONS])
def test_violations_and_their_reason(case: str, r: Rule, env: dict[str, str],
                                     reason: str) -> None:
    assert violation(r, config(**env)) == reason


@pytest.mark.parametrize(("case", "r", "env"), NOT_VIOLATIONS, ids=[c[0] for c in NOT_VIOLATIONS])
def test_rules_that_are_not_violations(case: str, r: Rule, env: dict[str, str]) -> None:
    assert violation(r, config(**env)) is None


def test_rules_naming_a_group_or_prefix_list_are_never_judged() -> None:
    referenced = Rule.from_api({"SecurityGroupRuleId": "sgr-2", "GroupId": "sg-1",
                                "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                "ReferencedGroupInfo": {"GroupId": "sg-2"}})
    prefix = Rule.from_api({"SecurityGroupRuleId": "sgr-3", "GroupId": "sg-1",
                            "IpProtocol": "-1", "PrefixListId": "pl-0123"})
    assert violation(referenced, config()) is None
    assert violation(prefix, config()) is None


def test_the_report_holds_the_rule_as_authorize_takes_it_back() -> None:
    assert rule(ports=(22, 22), Description="temp ssh").to_report() == {
        "security_group_rule_id": "sgr-1", "tags": {},
        "ip_permission": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                          "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "temp ssh"}]}}
    assert rule("-1", (-1, -1), "::/0").to_report()["ip_permission"] == {
        "IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}


@pytest.mark.parametrize(("env", "message"), [
    ({"SENSITIVE_PORTS": "22,ssh"}, "SENSITIVE_PORTS='22,ssh' is invalid: expected ports or "
                                    "ranges such as 22,5900-5910 ('ssh' is not one)"),
    ({"SENSITIVE_PORTS": "70000"}, "ports between 0 and 65535 ('70000' is not)"),
    ({"SENSITIVE_PORTS": "none"}, "SENSITIVE_PORTS='none' is invalid: expected at least one"),
    ({"REPLACEMENT_CIDRS": "0.0.0.0/0"}, "CIDR blocks narrower than the internet"),
    ({"REPLACEMENT_CIDRS": "10.8.0.1/16"}, "REPLACEMENT_CIDRS='10.8.0.1/16' is invalid"),
    ({"BROAD_CIDRS": "vpn"}, "BROAD_CIDRS='vpn' is invalid"),
    ({"SENSITIVE_PORTS": "6000-5000"}, "ranges written low-high ('6000-5000' is reversed)"),
    ({"BROAD_CIDRS": "10.0.0.0/8", "REPLACEMENT_CIDRS": "10.0.0.0/8"},
     "blocks the next sweep would not revoke (10.0.0.0/8 contains the BROAD_CIDRS block"),
    ({"REPLACEMENT_CIDRS": "12.0.0.0/7"},
     "blocks the next sweep would not revoke (12.0.0.0/7 is public and wider than /8)"),
    ({"REPLACEMENT_CIDRS": "2600::/31"},
     "blocks the next sweep would not revoke (2600::/31 is public and wider than /32)"),
    ({"MIN_FIXED_PREFIX_V4": "33"},
     "MIN_FIXED_PREFIX_V4='33' is invalid: expected a prefix length between 1 and 32"),
    ({"MIN_FIXED_PREFIX_V4": "0"},
     "MIN_FIXED_PREFIX_V4='0' is invalid: expected a prefix length between 1 and 32"),
    ({"MIN_FIXED_PREFIX_V6": "/32"},
     "MIN_FIXED_PREFIX_V6='/32' is invalid: expected a prefix length between 1 and 128"),
])
def test_bad_configuration_is_refused_with_the_variable(env: dict[str, str],
                                                        message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config(**env)


# The world-open judgement, one group of rows per row of the docs' table (range kind -> prefix
# threshold -> verdict): SSH from each range, with the default thresholds unless `env` says.
WORLD_OPEN = "world-open"
RANGES = [
    # the internet: prefix length 0, whatever the thresholds
    ("0.0.0.0/0", {}, WORLD_OPEN),
    ("::/0", {}, WORLD_OPEN),
    ("0.0.0.0/0", {"MIN_FIXED_PREFIX_V4": "1"}, WORLD_OPEN),
    ("::/0", {"MIN_FIXED_PREFIX_V6": "1"}, WORLD_OPEN),
    # public IPv4 wider than /8: the internet split in halves or quarters, two /8s
    ("0.0.0.0/1", {}, WORLD_OPEN),
    ("128.0.0.0/1", {}, WORLD_OPEN),
    ("64.0.0.0/2", {}, WORLD_OPEN),
    ("8.0.0.0/7", {}, WORLD_OPEN),
    # public IPv4, /8 or narrower: a fixed range
    ("11.0.0.0/8", {}, None),
    ("11.0.0.0/9", {}, None),
    ("52.94.0.0/16", {}, None),
    ("8.8.8.8/32", {}, None),
    # public IPv6 wider than /32
    ("::/1", {}, WORLD_OPEN),
    ("8000::/1", {}, WORLD_OPEN),
    ("2000::/3", {}, WORLD_OPEN),
    ("2600:1f00::/24", {}, WORLD_OPEN),
    ("2a04::/31", {}, WORLD_OPEN),
    # public IPv6, /32 or narrower
    ("2a05:d000::/32", {}, None),
    ("2a05:d000::/33", {}, None),
    ("2600:1f18:4000::/48", {}, None),
    # wholly inside private or reserved IPv4 space, however wide
    ("10.0.0.0/8", {}, None),
    ("100.64.0.0/10", {}, None),
    ("127.0.0.0/8", {}, None),
    ("169.254.0.0/16", {}, None),
    ("172.16.0.0/12", {}, None),
    ("192.168.0.0/16", {}, None),
    ("198.18.0.0/15", {}, None),
    ("224.0.0.0/3", {}, None),  # multicast and the reserved 240/4, together
    ("0.0.0.0/8", {}, None),
    # wholly inside private or reserved IPv6 space
    ("fc00::/7", {}, None),
    ("fd00::/8", {}, None),
    ("fe80::/10", {}, None),
    ("ff00::/8", {}, None),
    ("2001:db8::/32", {}, None),
    # partly private is public: 0.0.0.0/1 holds 10/8, 8000::/1 holds fc00::/7
    ("8.0.0.0/6", {}, WORLD_OPEN),
    ("fc00::/6", {}, WORLD_OPEN),
    # thresholds set by configuration
    ("0.0.0.0/1", {"MIN_FIXED_PREFIX_V4": "1"}, None),
    ("::/1", {"MIN_FIXED_PREFIX_V6": "1"}, None),
    ("11.0.0.0/8", {"MIN_FIXED_PREFIX_V4": "9"}, WORLD_OPEN),
    ("52.94.0.0/16", {"MIN_FIXED_PREFIX_V4": "17"}, WORLD_OPEN),
    ("52.94.0.0/17", {"MIN_FIXED_PREFIX_V4": "17"}, None),
    ("2600:1f18:4000::/48", {"MIN_FIXED_PREFIX_V6": "49"}, WORLD_OPEN),
    ("10.0.0.0/8", {"MIN_FIXED_PREFIX_V4": "32"}, None),  # private stays private
    # a private range that contains a BROAD_CIDRS block
    ("10.0.0.0/8", {"BROAD_CIDRS": "10.0.0.0/16"}, "a range containing 10.0.0.0/16"),
    ("fd00::/8", {"BROAD_CIDRS": "fd00:8::/64"}, "a range containing fd00:8::/64"),
]


@pytest.mark.parametrize(("cidr", "env", "verdict"), RANGES,
                         ids=[f"{c}-{'-'.join(f'{k}={v}' for k, v in e.items()) or 'default'}"
                              for c, e, _ in RANGES])
def test_which_ranges_are_world_open(cidr: str, env: dict[str, str], verdict: str | None) -> None:
    reason = violation(rule(cidr=cidr), config(**env))
    if verdict is None:
        assert reason is None
    else:
        assert reason is not None
        assert reason.startswith(f"tcp 22 open to {cidr} (")
        if verdict != WORLD_OPEN:
            assert f"({verdict})" in reason


# Every default sensitive port, by TCP and UDP, from the internet and from half of it.
SENSITIVE = [(20, "20-21 (FTP)"), (21, "20-21 (FTP)"), (22, "22 (SSH)"), (23, "23 (Telnet)"),
             (135, "135 (RPC)"), (137, "137-139 (NetBIOS)"), (138, "137-139 (NetBIOS)"),
             (139, "137-139 (NetBIOS)"), (445, "445 (SMB)"), (1433, "1433-1434 (SQL Server)"),
             (1434, "1433-1434 (SQL Server)"), (1521, "1521 (Oracle)"),
             (2375, "2375-2376 (Docker API)"), (2376, "2375-2376 (Docker API)"),
             (2483, "2483-2484 (Oracle)"), (2484, "2483-2484 (Oracle)"), (3306, "3306 (MySQL)"),
             (3389, "3389 (RDP)"), (5432, "5432 (PostgreSQL)"), (5601, "5601 (Kibana)"),
             (6379, "6379 (Redis)"), (7199, "7199 (Cassandra)"), (8888, "8888 (Cassandra)"),
             (9092, "9092 (Kafka)"), (9160, "9160 (Cassandra)"), (9200, "9200 (Elasticsearch)"),
             (9300, "9300 (Elasticsearch)"), (11211, "11211 (Memcached)"),
             (27017, "27017-27018 (MongoDB)"), (27018, "27017-27018 (MongoDB)")]


@pytest.mark.parametrize(("port", "named"), SENSITIVE, ids=[str(p) for p, _ in SENSITIVE])
@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "128.0.0.0/1", "8000::/1"])
@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_each_default_sensitive_port_is_revoked(port: int, named: str, cidr: str,
                                               protocol: str) -> None:
    reason = violation(rule(protocol, (port, port), cidr), config())
    assert reason is not None
    assert reason.endswith(f"covers {named}")


# Left open by default (docs: why they are not in the list): mail, web and app ports that public
# services use, which a load balancer or a public server may rightly open.
@pytest.mark.parametrize("port", [25, 80, 110, 143, 443, 465, 587, 993, 3000, 4333, 5000, 5500,
                                  8080, 8088, 8443])
def test_ports_left_out_of_the_default_are_not_revoked(port: int) -> None:
    assert violation(rule(ports=(port, port)), config()) is None


def test_a_configured_port_inside_a_named_range_keeps_its_service() -> None:
    reason = violation(rule(ports=(1434, 1434)), config(SENSITIVE_PORTS="1434,5900"))
    assert reason == "tcp 1434 open to 0.0.0.0/0 (the internet): covers 1434 (SQL Server)"
