"""The policy analyser on a table of policies: public or not, and the reason given."""

from __future__ import annotations

import json
from typing import Any

import pytest

from s3_public_remediation.policy import PolicyError, analyse

GET = "s3:GetObject"
RESOURCE = "arn:aws:s3:::bucket/*"


def statement(principal: Any = "*", condition: dict[str, Any] | None = None, *,
              effect: str = "Allow", not_principal: bool = False, sid: str = "S") -> dict[str, Any]:
    result: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": GET, "Resource": RESOURCE}
    result["NotPrincipal" if not_principal else "Principal"] = principal
    if condition is not None:
        result["Condition"] = condition
    return result


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


PUBLIC = [
    ("principal star", statement("*"), 'Principal "*"'),
    ("AWS star", statement({"AWS": "*"}), 'Principal {"AWS": "*"}'),
    ("AWS star in a list", statement({"AWS": ["arn:aws:iam::111122223333:root", "*"]}),
     'Principal {"AWS": "*"}'),
    ("wildcard account", statement({"AWS": "arn:aws:iam::*:root"}), "wildcard principal AWS"),
    ("NotPrincipal", statement({"AWS": "arn:aws:iam::111122223333:root"}, not_principal=True),
     "NotPrincipal"),
    ("NotIpAddress", statement("*", {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
     "no narrowing condition"),
    ("SecureTransport alone", statement("*", {"Bool": {"aws:SecureTransport": "true"}}),
     "no narrowing condition"),
    ("wildcard SourceArn", statement("*", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*"}}),
     "no narrowing condition"),
    ("wildcard org id", statement("*", {"StringLike": {"aws:PrincipalOrgID": "o-*"}}),
     "no narrowing condition"),
    ("whole internet range", statement("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
     "no narrowing condition"),
    ("IPv6 whole internet", statement("*", {"IpAddress": {"aws:SourceIp": "::/0"}}),
     "no narrowing condition"),
    ("too broad IPv4 range", statement("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}),
     "no narrowing condition"),
    ("one broad range among narrow ones",
     statement("*", {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}}),
     "no narrowing condition"),
    ("SourceIp compared as a string",
     statement("*", {"StringEquals": {"aws:SourceIp": "203.0.113.10"}}),
     "no narrowing condition"),
    ("negated org id", statement("*", {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}),
     "no narrowing condition"),
    ("IfExists", statement("*", {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b"}}),
     "no narrowing condition"),
    ("ForAllValues", statement("*", {"ForAllValues:StringEquals": {
        "aws:PrincipalOrgID": ["o-abc"]}}), "no narrowing condition"),
    ("Referer is not security", statement("*", {"StringLike": {
        "aws:Referer": "https://www.example.com/*"}}), "no narrowing condition"),
    ("empty value list", statement("*", {"StringEquals": {"aws:SourceVpc": []}}),
     "no narrowing condition"),
]

NOT_PUBLIC = [
    ("fixed account", statement({"AWS": "arn:aws:iam::111122223333:root"})),
    ("CloudFront OAC", statement({"Service": "cloudfront.amazonaws.com"},
                                 {"StringEquals": {"AWS:SourceArn":
                                  "arn:aws:cloudfront::111122223333:distribution/E2EX"}})),
    ("CloudFront OAI", statement({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access "
                                         "Identity E2EXAMPLE"})),
    ("Deny everyone", statement("*", effect="Deny")),
    ("IpAddress range", statement("*", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
    ("IPv6 range", statement("*", {"IpAddress": {"aws:SourceIp": "2001:db8::/48"}})),
    ("SourceVpce", statement("*", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})),
    ("SourceVpc", statement("*", {"StringEquals": {"aws:sourcevpc": "vpc-111bbb22"}})),
    ("SourceArn", statement("*", {"ArnEquals": {"aws:SourceArn":
                                                "arn:aws:sns:eu-west-1:111122223333:t"}})),
    ("SourceAccount", statement("*", {"StringEquals": {"aws:SourceAccount": "111122223333"}})),
    ("SourceOwner", statement("*", {"StringEquals": {"aws:SourceOwner": "111122223333"}})),
    ("PrincipalOrgID", statement("*", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})),
    ("PrincipalAccount", statement({"AWS": "*"}, {"StringEquals": {
        "aws:PrincipalAccount": ["111122223333", "444455556666"]}})),
    ("narrowing next to SecureTransport", statement("*", {
        "Bool": {"aws:SecureTransport": "true"},
        "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})),
    ("ForAnyValue with a fixed value", statement("*", {"ForAnyValue:StringEquals": {
        "aws:PrincipalOrgID": "o-a1b2c3d4e5"}})),
]


@pytest.mark.parametrize(("case", "stmt", "reason"), PUBLIC, ids=[c[0] for c in PUBLIC])
def test_public_statements_are_found_with_their_reason(case: str, stmt: dict[str, Any],
                                                       reason: str) -> None:
    (finding,) = analyse(policy(stmt)).public
    assert reason in finding.reason
    assert finding.label == "statement 'S'"
    assert finding.statement == stmt


@pytest.mark.parametrize(("case", "stmt"), NOT_PUBLIC, ids=[c[0] for c in NOT_PUBLIC])
def test_fixed_principals_and_narrowing_conditions_are_not_public(case: str,
                                                                  stmt: dict[str, Any]) -> None:
    assert analyse(policy(stmt)).public == ()


def test_only_public_statements_are_removed_and_the_rest_kept_in_order() -> None:
    deny = statement("*", {"Bool": {"aws:SecureTransport": "false"}}, effect="Deny", sid="TLS")
    oac = NOT_PUBLIC[1][1]
    analysis = analyse(json.dumps({"Version": "2012-10-17", "Id": "p1",
                                   "Statement": [deny, statement("*", sid="Open"), oac]}))
    assert [f.sid for f in analysis.public] == ["Open"]
    assert analysis.without_public() == {"Version": "2012-10-17", "Id": "p1",
                                         "Statement": [deny, oac]}


def test_a_policy_of_only_public_statements_leaves_nothing() -> None:
    assert analyse(policy(statement("*"), statement({"AWS": "*"}, sid="T"))).without_public() \
        is None


def test_a_single_statement_object_and_an_unnamed_statement() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": "*"}})
    (finding,) = analyse(text).public
    assert finding.label == "statement #1"
    assert finding.reason == ('allows Principal "*" s3:GetObject, s3:ListBucket with no '
                              "narrowing condition")


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "policy is not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"Version": "2012-10-17"}', "Statement=None is invalid"),
    ('{"Statement": []}', "Statement=[] is invalid"),
    ('{"Statement": ["Allow"]}', "Statement[0]='Allow' is invalid"),
])
def test_malformed_policies_are_refused_with_the_field(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        analyse(text)
