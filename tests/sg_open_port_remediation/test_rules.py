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
     "tcp 1000-6000 open to 0.0.0.0/0 (the internet): covers 3389 (RDP), 3306 (MySQL), "
     "5432 (PostgreSQL) and 3 more"),
    ("all traffic", rule("-1", (-1, -1)), {}, "all traffic open to 0.0.0.0/0 (the internet)"),
    ("all ports of tcp", rule("tcp", (-1, -1), "::/0"), {},
     "tcp all ports open to ::/0 (the internet): covers 22 (SSH), 3389 (RDP), 3306 (MySQL) "
     "and 8 more"),
    ("protocol number", rule("6", (27017, 27017)), {},
     "tcp 27017 open to 0.0.0.0/0 (the internet): covers 27017 (MongoDB)"),
    ("memcached udp", rule("udp", (11211, 11211)), {},
     "udp 11211 open to 0.0.0.0/0 (the internet): covers 11211 (Memcached)"),
    ("configured broad cidr", rule(cidr="10.0.0.0/8"), {"BROAD_CIDRS": "10.0.0.0/8"},
     "tcp 22 open to 10.0.0.0/8 (a range containing 10.0.0.0/8): covers 22 (SSH)"),
    ("wider than a broad cidr", rule(cidr="0.0.0.0/1"), {"BROAD_CIDRS": "10.0.0.0/8"},
     "tcp 22 open to 0.0.0.0/1 (a range containing 10.0.0.0/8): covers 22 (SSH)"),
    ("configured range", rule(ports=(5901, 5901)), {"SENSITIVE_PORTS": "5900-5910"},
     "tcp 5901 open to 0.0.0.0/0 (the internet): covers 5900-5910"),
    ("allowed port list emptied", rule(ports=(0, 65535)), {"ALLOWED_PORTS": "none"},
     "tcp 0-65535 open to 0.0.0.0/0 (the internet): covers 22 (SSH), 3389 (RDP), 3306 (MySQL) "
     "and 8 more"),
]

NOT_VIOLATIONS = [
    ("https", rule(ports=(443, 443)), {}),
    ("http over ipv6", rule(ports=(80, 80), cidr="::/0"), {}),
    ("a non-sensitive port", rule(ports=(8080, 8080)), {}),
    ("a narrow range", rule(cidr="203.0.113.0/24"), {}),
    ("a private range without broad cidrs", rule(cidr="10.0.0.0/8"), {}),
    ("narrower than a broad cidr", rule(cidr="10.1.0.0/16"), {"BROAD_CIDRS": "10.0.0.0/8"}),
    ("as wide as a broad cidr but elsewhere", rule(cidr="11.0.0.0/8"),
     {"BROAD_CIDRS": "10.0.0.0/8"}),
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
])
def test_bad_configuration_is_refused_with_the_variable(env: dict[str, str],
                                                        message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config(**env)
