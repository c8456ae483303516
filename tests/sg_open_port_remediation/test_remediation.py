"""The open-port remediation on moto: exact revocation, exemptions, replacement, sweep, calls."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from sg_open_port_remediation import app
from tests.cloudtrail import ACCOUNT, ALICE, api_call
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event
from tests.sg_open_port_remediation.seed import BY_EVENT, GROUP_ID, make_bastion

OWN_ROLE = "opskit-SgOpenPortRemediationFunctionRole-Qw12Er34Ty56"
SWEEP = load_event("sg_open_port_remediation/scheduled-sweep.json")


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    monkeypatch.setenv("OWN_ROLE_NAME", OWN_ROLE)


def handle(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, context)
    return result


def make_group(name: str = "bastion", *, tags: dict[str, str] | None = None,
               description: str = "bastion hosts", vpc: str | None = None) -> str:
    ec2 = boto3.client("ec2")
    vpc = vpc or ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}]
                                   )["Vpcs"][0]["VpcId"]
    spec = ([{"ResourceType": "security-group",
              "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else [])
    return ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc,
                                     TagSpecifications=spec)["GroupId"]  # type: ignore[arg-type]


def allow(group: str, protocol: str = "tcp", ports: tuple[int, int] | None = (22, 22), *,
          cidr: str = "0.0.0.0/0", description: str = "",
          tags: dict[str, str] | None = None) -> str:
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if ports is not None:
        permission.update(FromPort=ports[0], ToPort=ports[1])
    entry: dict[str, Any] = {"CidrIpv6" if ":" in cidr else "CidrIp": cidr}
    if description:
        entry["Description"] = description
    permission["Ipv6Ranges" if ":" in cidr else "IpRanges"] = [entry]
    spec = ([{"ResourceType": "security-group-rule",
              "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else [])
    response = boto3.client("ec2").authorize_security_group_ingress(
        GroupId=group, IpPermissions=[permission], TagSpecifications=spec)  # type: ignore[arg-type]
    return str(response["SecurityGroupRules"][0]["SecurityGroupRuleId"])


def ingress(group: str) -> list[tuple[str, str, int, str]]:
    rules = boto3.client("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    return sorted((r["IpProtocol"], r.get("CidrIpv4") or r.get("CidrIpv6", ""),
                   r.get("FromPort", -1), r.get("Description", ""))
                  for r in rules if not r["IsEgress"])


def authorize_event(group: str, rule_ids: list[str], identity: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    return api_call("AuthorizeSecurityGroupIngress", "ec2",
                    request={"groupId": group, "ipPermissions": {"items": []}},
                    response={"_return": True, "securityGroupRuleSet": {"items": [
                        {"groupId": group, "securityGroupRuleId": r, "isEgress": False}
                        for r in rule_ids]}},
                    identity=identity)


def mutations(api_calls: ApiCalls) -> list[str]:
    return sorted(op for (svc, op), n in api_calls.counts.items() for _ in range(n)
                  if svc == "ec2" and not op.startswith("Describe"))


def test_the_offending_rule_is_revoked_by_id_and_every_other_rule_stays(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    group = make_group()
    ssh = allow(group, description="temp ssh")
    allow(group, ports=(22, 22), cidr="203.0.113.0/24")
    allow(group, ports=(443, 443))
    ssh6 = allow(group, ports=(22, 22), cidr="::/0")
    api_calls.reset()
    result = handle(authorize_event(group, [ssh, ssh6]), lambda_context)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 0, "failed": 0}
    assert ingress(group) == [("tcp", "0.0.0.0/0", 443, ""), ("tcp", "203.0.113.0/24", 22, "")]
    assert mutations(api_calls) == ["RevokeSecurityGroupIngress"]  # both rules in one call
    (report,) = alert_inbox.received()
    assert report["title"] == f"Revoked 2 world-open ingress rule(s) in {group} (bastion)"
    assert report["severity"] == "warning"
    by_rule = {a["resource"]: a for a in report["actions"]}
    assert by_rule[ssh]["reason"] == "tcp 22 open to 0.0.0.0/0 (the internet): covers 22 (SSH)"
    assert by_rule[ssh]["details"]["opened_by"] == ALICE["arn"]
    assert by_rule[ssh]["details"]["group_name"] == "bastion"
    assert by_rule[ssh]["details"]["vpc_id"].startswith("vpc-")
    assert by_rule[ssh]["details"]["rule"]["ip_permission"] == {
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "temp ssh"}]}
    assert by_rule[ssh6]["details"]["rule"]["ip_permission"]["Ipv6Ranges"] == [
        {"CidrIpv6": "::/0"}]


def test_halves_of_the_internet_are_revoked_and_private_ranges_stay(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    group = make_group()
    opened = [allow(group, cidr="0.0.0.0/1"), allow(group, cidr="128.0.0.0/1"),
              allow(group, ports=(3389, 3389), cidr="::/1"),
              allow(group, ports=(3389, 3389), cidr="8000::/1"),
              allow(group, ports=(23, 23), cidr="64.0.0.0/2")]
    allow(group, cidr="10.0.0.0/8")
    allow(group, ports=(3389, 3389), cidr="fd00::/8")
    allow(group, cidr="52.94.0.0/16")
    result = handle(authorize_event(group, opened), lambda_context)
    assert result["counts"] == {"done": 5, "planned": 0, "skipped": 0, "failed": 0}
    assert [(r[1], r[2]) for r in ingress(group)] == [
        ("10.0.0.0/8", 22), ("52.94.0.0/16", 22), ("fd00::/8", 3389)]
    (report,) = alert_inbox.received()
    reasons = {a["resource"]: a["reason"] for a in report["actions"]}
    assert reasons[opened[0]] == ("tcp 22 open to 0.0.0.0/1 (public address space wider than /8): "
                                  "covers 22 (SSH)")
    assert reasons[opened[3]] == ("tcp 3389 open to 8000::/1 (public address space wider than "
                                  "/32): covers 3389 (RDP)")


def test_a_record_naming_its_group_by_name_checks_the_group_it_changed(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    ec2 = boto3.client("ec2")
    web = make_group("web")
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    other = make_group("web", vpc=other_vpc)
    ssh = allow(web)
    kept = allow(other, cidr="10.1.0.0/16")
    event = authorize_event(web, [ssh])
    event["detail"]["requestParameters"] = {"groupName": "web", "ipPermissions": {"items": []}}
    result = handle(event, lambda_context)
    assert result["counts"]["done"] == 1
    assert ingress(web) == []
    assert len(ingress(other)) == 1
    assert kept
    (report,) = alert_inbox.received()
    assert report["title"] == f"Revoked 1 world-open ingress rule(s) in {web} (web)"


def test_a_group_name_shared_by_several_groups_is_refused_not_guessed(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    ec2 = boto3.client("ec2")
    web = make_group("web")
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    other = make_group("web", vpc=other_vpc)
    allow(web)
    allow(other)
    event = authorize_event(web, [])
    event["detail"]["requestParameters"] = {"groupName": "web", "ipPermissions": {"items": []}}
    event["detail"]["responseElements"] = {"_return": True}  # no rule set, so no group id
    api_calls.reset()
    result = handle(event, lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert mutations(api_calls) == []
    assert len(ingress(web)) == len(ingress(other)) == 1
    (report,) = alert_inbox.received()
    first, second = sorted([web, other])
    assert report["error"] == (f"security group name 'web' matches 2 groups ({first}, {second}) "
                               "and the record gives no group id; nothing changed, the daily "
                               "sweep checks them all")
    assert report["severity"] == "warning"
    assert report["title"] == ("Not checked: 2 security groups are named web "
                               "(AuthorizeSecurityGroupIngress)")


def test_a_group_name_matching_one_group_is_checked(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    web = make_group("web")
    allow(web)
    event = authorize_event(web, [])
    event["detail"]["requestParameters"] = {"groupName": "web", "ipPermissions": {"items": []}}
    event["detail"]["responseElements"] = {"_return": True}
    assert handle(event, lambda_context)["counts"]["done"] == 1
    assert ingress(web) == []


def test_replacement_comes_first_and_keeps_the_allowed_range(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("REPLACEMENT_CIDRS", "10.8.0.0/16,fd00:8::/64")
    group = make_group()
    ssh = allow(group)
    rdp6 = allow(group, ports=(3389, 3389), cidr="::/0")
    api_calls.reset()
    handle(authorize_event(group, [ssh, rdp6]), lambda_context)
    order = [op for (svc, op) in api_calls.counts if svc == "ec2" and not op.startswith("Desc")]
    assert order == ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"]
    assert api_calls.of("ec2", "AuthorizeSecurityGroupIngress") == 2  # one per replaced rule
    assert ingress(group) == [("tcp", "10.8.0.0/16", 22, f"opskit replaces {ssh}"),
                              ("tcp", "fd00:8::/64", 3389, f"opskit replaces {rdp6}")]
    (report,) = alert_inbox.received()
    replaces = [a for a in report["actions"] if a["action"] == "authorize-replacement"]
    assert [(a["resource"], a["status"], a["reason"]) for a in replaces] == [
        (group, "done", f"keeps tcp 22 open to 10.8.0.0/16 before {ssh} goes"),
        (group, "done", f"keeps tcp 3389 open to fd00:8::/64 before {rdp6} goes")]


def test_an_existing_replacement_does_not_stop_the_others(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLACEMENT_CIDRS", "10.8.0.0/16")
    group = make_group()
    ssh = allow(group)
    pg = allow(group, ports=(5432, 5432))
    allow(group, ports=(22, 22), cidr="10.8.0.0/16")  # the SSH replacement is already there
    result = handle(authorize_event(group, [ssh, pg]), lambda_context)
    assert result["counts"] == {"done": 4, "planned": 0, "skipped": 0, "failed": 0}
    assert [(r[1], r[2]) for r in ingress(group)] == [("10.8.0.0/16", 22), ("10.8.0.0/16", 5432)]


def test_a_failed_replacement_still_revokes_and_says_so(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    from botocore.exceptions import ClientError

    from sg_open_port_remediation import remediation

    def refuse(ec2: Any, group_id: str, batch: Any) -> None:
        raise ClientError({"Error": {"Code": "RulesPerSecurityGroupLimitExceeded",
                                     "Message": "too many rules"}}, "AuthorizeSecurityGroupIngress")

    monkeypatch.setenv("REPLACEMENT_CIDRS", "10.8.0.0/16")
    monkeypatch.setattr(remediation, "_authorize", refuse)
    group = make_group()
    ssh = allow(group)
    handle(authorize_event(group, [ssh]), lambda_context)
    assert ingress(group) == []  # security first: the world-open rule goes anyway
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    assert report["title"].endswith("; 1 action(s) failed")


def test_dry_run_plans_and_changes_nothing(lambda_context: FakeLambdaContext,
                                           monkeypatch: pytest.MonkeyPatch,
                                           alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    monkeypatch.setenv("REPLACEMENT_CIDRS", "10.8.0.0/16")
    group = make_group()
    ssh = allow(group)
    api_calls.reset()
    result = handle(authorize_event(group, [ssh]), lambda_context)
    assert result["counts"] == {"done": 0, "planned": 2, "skipped": 0, "failed": 0}
    assert mutations(api_calls) == []
    assert ingress(group) == [("tcp", "0.0.0.0/0", 22, "")]
    (report,) = alert_inbox.received()
    assert report["title"] == f"Would revoke 1 world-open ingress rule(s) in {group} (bastion)"
    assert report["severity"] == "critical"
    assert report["still_open"] == [ssh]


def test_exemptions_by_tag_and_description_marker(lambda_context: FakeLambdaContext,
                                                  alert_inbox: AlertInbox) -> None:
    exempt_group = make_group("exempt", tags={"opskit:exempt": "true"})
    marked_group = make_group("marked", description="public sftp opskit:allow")
    plain = make_group("plain")
    allow(exempt_group)
    allow(marked_group)
    tagged_rule = allow(plain, ports=(3389, 3389), tags={"opskit:exempt": "true"})
    marked_rule = allow(plain, ports=(5432, 5432), description="partner db opskit:allow")
    open_rule = allow(plain, ports=(6379, 6379))
    result = handle(SWEEP, lambda_context)
    assert result["counts"] == {"done": 1, "planned": 0, "skipped": 4, "failed": 0}
    assert [r[2] for r in ingress(plain)] == [3389, 5432]
    assert len(ingress(exempt_group)) == len(ingress(marked_group)) == 1
    (report,) = alert_inbox.received()
    notes = {a["resource"]: a["details"].get("note") for a in report["actions"]}
    assert notes[tagged_rule] == "exempt: rule tagged opskit:exempt"
    assert notes[marked_rule] == "allowed: the rule description carries 'opskit:allow'"
    assert notes[open_rule] is None
    assert sorted(n for n in notes.values() if n) == sorted([
        "exempt: group tagged opskit:exempt", "exempt: rule tagged opskit:exempt",
        "allowed: the group description carries 'opskit:allow'",
        "allowed: the rule description carries 'opskit:allow'"])


def test_a_rule_already_gone_is_success(lambda_context: FakeLambdaContext,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from sg_open_port_remediation import remediation

    group = make_group()
    ssh = allow(group)
    real = remediation._revoke

    def revoke_twice(ec2: Any, group_id: str, batch: Any) -> None:
        real(ec2, group_id, batch)  # someone else revoked it first
        real(ec2, group_id, batch)

    monkeypatch.setattr(remediation, "_revoke", revoke_twice)
    result = handle(authorize_event(group, [ssh]), lambda_context)
    assert result["counts"] == {"done": 1, "planned": 0, "skipped": 0, "failed": 0}
    assert ingress(group) == []


def test_a_second_run_finds_nothing(lambda_context: FakeLambdaContext, alert_inbox: AlertInbox,
                                    api_calls: ApiCalls) -> None:
    group = make_group()
    ssh = allow(group)
    event = authorize_event(group, [ssh])
    handle(event, lambda_context)
    alert_inbox.received()
    api_calls.reset()
    assert handle(event, lambda_context)["counts"]["done"] == 0
    assert mutations(api_calls) == []
    assert alert_inbox.received() == []


def test_a_group_that_no_longer_exists_is_reported(lambda_context: FakeLambdaContext,
                                                   alert_inbox: AlertInbox,
                                                   api_calls: ApiCalls) -> None:
    api_calls.reset()
    result = handle(authorize_event("sg-0deadbeef0000dead", ["sgr-0dead0000beef1111"]),
                    lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert mutations(api_calls) == []
    (report,) = alert_inbox.received()
    assert report["error"] == "security group sg-0deadbeef0000dead no longer exists; " \
                              "nothing to check"


@pytest.mark.parametrize(("detail", "why"), [
    ({"errorCode": "Client.UnauthorizedOperation"}, "the call failed"),
    ({"requestParameters": {"groupId": "sg-1", "dryRun": True}}, "a dry-run call"),
    ({"userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/"
                       f"{OWN_ROLE}/session"}}, "made by this automation's own role"),
    ({"eventName": "RevokeSecurityGroupIngress"}, "RevokeSecurityGroupIngress cannot open"),
    ({"requestParameters": {}}, "malformed: detail.requestParameters.groupId=None"),
])
def test_records_that_are_not_acted_on(lambda_context: FakeLambdaContext, api_calls: ApiCalls,
                                       detail: dict[str, Any], why: str) -> None:
    event = authorize_event("sg-1", [])
    event["detail"].update(detail)
    api_calls.reset()
    result = handle(event, lambda_context)
    assert result["skipped"].startswith(why)
    assert api_calls.total == 0


def test_modify_security_group_rules_is_read_from_its_own_request_shape(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    group = make_group()
    rule = allow(group, ports=(5432, 5432))
    event = api_call("ModifySecurityGroupRules", "ec2", request={
        "ModifySecurityGroupRulesRequest": {"GroupId": group, "SecurityGroupRule": {
            "tag": 1, "SecurityGroupRuleId": rule, "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                "CidrIpv4": "0.0.0.0/0"}}}},
        response={"ModifySecurityGroupRulesResponse": {"return": True}})
    result = handle(event, lambda_context)
    assert result["counts"]["done"] == 1
    (report,) = alert_inbox.received()
    assert report["actions"][0]["details"]["opened_by"] == ALICE["arn"]


def test_sweep_of_300_groups_costs_pages_plus_one_call_per_open_group(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    opened = []
    for index in range(300):
        group = make_group(f"app-{index:03d}")
        allow(group, ports=(443, 443))
        if index % 30 == 0:
            allow(group)
            allow(group, ports=(22, 22), cidr="::/0")
            opened.append(group)
    api_calls.reset()
    result = handle(SWEEP, lambda_context)
    assert result["counts"]["done"] == 20
    # moto answers DescribeSecurityGroupRules in one page; AWS pages by 1,000 rules.
    assert api_calls.of("ec2", "DescribeSecurityGroupRules") == 1
    assert api_calls.of("ec2", "DescribeSecurityGroups") == 1  # only the 10 open groups
    assert api_calls.of("ec2", "RevokeSecurityGroupIngress") == len(opened) == 10
    assert api_calls.of("ec2") == 12


EXPECTED = {
    "authorize-ssh-world": ["sgr-0aaa1111bbbb22223"],
    "authorize-ipv6-rdp": ["sgr-0bbb2222cccc33334"],  # 10.20.0.0/16 is not the world
    "authorize-port-range": ["sgr-0ccc3333dddd44445"],
    "authorize-all-traffic": ["sgr-0ddd4444eeee55556"],
    "authorize-https-world": [],
    "modify-rule-to-world": ["sgr-0fff6666aaaa77778"],
    "authorize-half-internet-by-name": ["sgr-0abc7777bbbb88889", "sgr-0abc7777bbbb8888a"],
    "create-security-group": [],
    "scheduled-sweep": ["sgr-0aaa1111bbbb22223", "sgr-0abc7777bbbb88889",
                        "sgr-0abc7777bbbb8888a", "sgr-0bbb2222cccc33334",
                        "sgr-0ccc3333dddd44445", "sgr-0ddd4444eeee55556",
                        "sgr-0fff6666aaaa77778"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_event_plans_exactly_its_open_rules(
        name: str, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    make_bastion(BY_EVENT[name])
    api_calls.reset()
    handle(load_event(f"sg_open_port_remediation/{name}.json"), lambda_context)
    assert mutations(api_calls) == []
    reports = alert_inbox.received()
    planned = sorted(a["resource"] for r in reports for a in r["actions"]
                     if a["status"] == "planned")
    assert planned == EXPECTED[name]
    for report in reports:
        assert report["still_open"] == EXPECTED[name]
        assert GROUP_ID in report["title"]
