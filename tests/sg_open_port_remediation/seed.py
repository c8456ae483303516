"""The security group the sample events name, with the rules each call made (ids as recorded)."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import Any
from unittest.mock import patch

import boto3
import moto.ec2.models.security_groups as moto_groups

GROUP_ID = "sg-0a1b2c3d4e5f60718"
OWN_ROLE = "opskit-SgOpenPortRemediationFunctionRole-Qw12Er34Ty56"

# rule id -> (protocol, from port, to port, cidr)
RULES: dict[str, tuple[str, int, int, str]] = {
    "sgr-0aaa1111bbbb22223": ("tcp", 22, 22, "0.0.0.0/0"),
    "sgr-0bbb2222cccc33334": ("tcp", 3389, 3389, "::/0"),
    "sgr-0bbb2222cccc33335": ("tcp", 3389, 3389, "10.20.0.0/16"),
    "sgr-0ccc3333dddd44445": ("tcp", 1000, 6000, "0.0.0.0/0"),
    "sgr-0ddd4444eeee55556": ("-1", -1, -1, "0.0.0.0/0"),
    "sgr-0eee5555ffff66667": ("tcp", 443, 443, "0.0.0.0/0"),
    "sgr-0eee5555ffff66668": ("tcp", 443, 443, "::/0"),
    "sgr-0fff6666aaaa77778": ("tcp", 5432, 5432, "0.0.0.0/0"),
    "sgr-0abc7777bbbb88889": ("tcp", 22, 22, "0.0.0.0/1"),
    "sgr-0abc7777bbbb8888a": ("tcp", 22, 22, "128.0.0.0/1"),
}
# The rules each sample call left behind (the sweep sees them all).
BY_EVENT = {
    "authorize-ssh-world": ["sgr-0aaa1111bbbb22223"],
    "authorize-ipv6-rdp": ["sgr-0bbb2222cccc33334", "sgr-0bbb2222cccc33335"],
    "authorize-port-range": ["sgr-0ccc3333dddd44445"],
    "authorize-all-traffic": ["sgr-0ddd4444eeee55556"],
    "authorize-https-world": ["sgr-0eee5555ffff66667", "sgr-0eee5555ffff66668"],
    "modify-rule-to-world": ["sgr-0fff6666aaaa77778"],
    "authorize-half-internet-by-name": ["sgr-0abc7777bbbb88889", "sgr-0abc7777bbbb8888a"],
    "create-security-group": [],
    "scheduled-sweep": list(RULES),
}


def make_bastion(rule_ids: list[str], session: boto3.Session | None = None) -> str:
    ec2 = (session or boto3).client("ec2", region_name="eu-west-1")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    with patch.object(moto_groups, "random_security_group_id", return_value=GROUP_ID):
        ec2.create_security_group(GroupName="bastion", Description="bastion hosts", VpcId=vpc)
    for rule_id in rule_ids:
        protocol, first, last, cidr = RULES[rule_id]
        permission: dict[str, Any] = {"IpProtocol": protocol}
        if protocol != "-1":
            permission.update(FromPort=first, ToPort=last)
        permission["Ipv6Ranges" if ":" in cidr else "IpRanges"] = [
            {"CidrIpv6" if ":" in cidr else "CidrIp": cidr}]
        with patch.object(moto_groups, "random_security_group_rule_id", return_value=rule_id):
            ec2.authorize_security_group_ingress(GroupId=GROUP_ID, IpPermissions=[permission])  # type: ignore[list-item]
    return GROUP_ID


def seed(name: str) -> AbstractContextManager[Any] | None:
    if name == "group-gone":
        return None
    make_bastion(BY_EVENT.get(name, ["sgr-0aaa1111bbbb22223"]))
    if name.startswith("skip-own-"):
        # The role the template names in OWN_ROLE_NAME, as the sample records show it.
        return patch.dict(os.environ, {"OWN_ROLE_NAME": OWN_ROLE})
    return None
