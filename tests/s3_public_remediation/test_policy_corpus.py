"""A corpus of real-shaped bucket-policy statements and the verdict the docs' rules give each.

Each case is one whole statement and whether it makes the bucket public. Every row of the table
"Conditions that narrow" in docs/s3_public_remediation.md has cases here, named after the row.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from s3_public_remediation.policy import analyse

BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"
OBJECTS = f"{BUCKET}/*"
ACCOUNT = "111122223333"
OTHER = "444455556666"
PUBLIC, PRIVATE = True, False


def allow(principal: Any = "*", condition: dict[str, Any] | None = None, *,
          action: Any = "s3:GetObject", resource: Any = OBJECTS, sid: str = "Case",
          effect: str = "Allow", not_principal: bool = False) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": action,
                                 "Resource": resource}
    statement["NotPrincipal" if not_principal else "Principal"] = principal
    if condition is not None:
        statement["Condition"] = condition
    return statement


def when(operator: str, key: str, value: Any, principal: Any = "*",
         **kwargs: Any) -> dict[str, Any]:
    return allow(principal, {operator: {key: value}}, **kwargs)


# (table row, case, statement, public?)
CORPUS: list[tuple[str, str, dict[str, Any], bool]] = [
    # --- Principal ---------------------------------------------------------------------------
    ("principal", "star", allow("*"), PUBLIC),
    ("principal", "AWS star", allow({"AWS": "*"}), PUBLIC),
    ("principal", "AWS star in a list", allow({"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]}),
     PUBLIC),
    ("principal", "wildcard account ARN", allow({"AWS": "arn:aws:iam::*:root"}), PUBLIC),
    ("principal", "wildcard role name", allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"}), PUBLIC),
    ("principal", "question-mark role", allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/app?"}),
     PUBLIC),
    ("principal", "federated star", allow({"Federated": "*"}), PUBLIC),
    ("principal", "NotPrincipal", allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                        not_principal=True), PUBLIC),
    ("principal", "star, write access", allow("*", action=["s3:PutObject", "s3:PutObjectAcl"]),
     PUBLIC),
    ("principal", "star, list bucket", allow("*", action="s3:ListBucket", resource=BUCKET),
     PUBLIC),
    ("principal", "star, everything", allow("*", action="s3:*", resource=[BUCKET, OBJECTS]),
     PUBLIC),
    ("principal", "fixed account root", allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), PRIVATE),
    ("principal", "fixed account id", allow({"AWS": OTHER}), PRIVATE),
    ("principal", "fixed role", allow({"AWS": f"arn:aws:iam::{OTHER}:role/reader"}), PRIVATE),
    ("principal", "two fixed accounts", allow({"AWS": [ACCOUNT, OTHER]}), PRIVATE),
    ("principal", "service principal", allow({"Service": "logging.s3.amazonaws.com"},
                                             action="s3:PutObject"), PRIVATE),
    ("principal", "CloudFront OAI", allow({"AWS": "arn:aws:iam::cloudfront:user/CloudFront "
                                                  "Origin Access Identity E2EXAMPLE"}), PRIVATE),
    ("principal", "canonical user", allow({"CanonicalUser": "79a59df900b949e55d96a1e698fbace"
                                                            "dfd6e09d98eacf8f8d5218e7cd47ef2be"}),
     PRIVATE),
    ("principal", "Deny everyone", allow("*", effect="Deny"), PRIVATE),
    ("principal", "Deny insecure transport", allow("*", {"Bool": {"aws:SecureTransport": "false"}},
                                                   action="s3:*", effect="Deny"), PRIVATE),
    ("principal", "Deny with NotPrincipal", allow({"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                  effect="Deny", not_principal=True), PRIVATE),
    # --- aws:SourceIp --------------------------------------------------------------------------
    ("aws:SourceIp", "office /24", when("IpAddress", "aws:SourceIp", "203.0.113.0/24"), PRIVATE),
    ("aws:SourceIp", "single address", when("IpAddress", "aws:SourceIp", "203.0.113.10"),
     PRIVATE),
    ("aws:SourceIp", "/8 exactly", when("IpAddress", "aws:SourceIp", "10.0.0.0/8"), PRIVATE),
    ("aws:SourceIp", "two ranges", when("IpAddress", "aws:SourceIp",
                                        ["192.0.2.0/24", "198.51.100.0/24"]), PRIVATE),
    ("aws:SourceIp", "IPv6 /48", when("IpAddress", "aws:SourceIp", "2001:db8:1234::/48"),
     PRIVATE),
    ("aws:SourceIp", "IPv6 /32", when("IpAddress", "aws:SourceIp", "2001:db8::/32"), PRIVATE),
    ("aws:SourceIp", "whole internet", when("IpAddress", "aws:SourceIp", "0.0.0.0/0"), PUBLIC),
    ("aws:SourceIp", "half the internet", when("IpAddress", "aws:SourceIp", "0.0.0.0/1"),
     PUBLIC),
    ("aws:SourceIp", "/7", when("IpAddress", "aws:SourceIp", "10.0.0.0/7"), PUBLIC),
    ("aws:SourceIp", "IPv6 whole internet", when("IpAddress", "aws:SourceIp", "::/0"), PUBLIC),
    ("aws:SourceIp", "IPv6 /31", when("IpAddress", "aws:SourceIp", "2001:db8::/31"), PUBLIC),
    ("aws:SourceIp", "one broad range among narrow",
     when("IpAddress", "aws:SourceIp", ["203.0.113.0/24", "0.0.0.0/0"]), PUBLIC),
    ("aws:SourceIp", "compared as a string", when("StringEquals", "aws:SourceIp", "203.0.113.10"),
     PUBLIC),
    ("aws:SourceIp", "negated", when("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"), PUBLIC),
    ("aws:SourceIp", "IfExists", when("IpAddressIfExists", "aws:SourceIp", "203.0.113.0/24"),
     PUBLIC),
    ("aws:SourceIp", "not an address", when("IpAddress", "aws:SourceIp", "office"), PUBLIC),
    ("aws:SourceIp", "policy variable", when("IpAddress", "aws:SourceIp", "${aws:SourceIp}"),
     PUBLIC),
    # --- aws:SourceVpce / aws:SourceVpc --------------------------------------------------------
    ("aws:SourceVpce", "fixed endpoint", when("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
     PRIVATE),
    ("aws:SourceVpce", "two endpoints", when("StringEquals", "aws:SourceVpce",
                                             ["vpce-1a2b3c4d", "vpce-5e6f7a8b"]), PRIVATE),
    ("aws:SourceVpce", "wildcard endpoint", when("StringLike", "aws:SourceVpce", "vpce-*"),
     PUBLIC),
    ("aws:SourceVpce", "IfExists", when("StringEqualsIfExists", "aws:SourceVpce", "vpce-1a2b"),
     PUBLIC),
    ("aws:SourceVpce", "negated", when("StringNotEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
     PUBLIC),
    ("aws:SourceVpc", "fixed VPC", when("StringEquals", "aws:SourceVpc", "vpc-111bbb22"),
     PRIVATE),
    ("aws:SourceVpc", "lower-case key", when("StringEquals", "aws:sourcevpc", "vpc-111bbb22"),
     PRIVATE),
    ("aws:SourceVpc", "StringLike with a fixed value",
     when("StringLike", "aws:SourceVpc", "vpc-111bbb22"), PRIVATE),
    ("aws:SourceVpc", "S3's own public example", when("StringLike", "aws:SourceVpc", "vpc-*",
                                                      action="s3:PutObject", resource="*"),
     PUBLIC),
    ("aws:SourceVpc", "policy variable", when("StringEquals", "aws:SourceVpc",
                                              "${aws:SourceVpc}"), PUBLIC),
    ("aws:SourceVpc", "empty list", when("StringEquals", "aws:SourceVpc", []), PUBLIC),
    # --- aws:SourceArn -------------------------------------------------------------------------
    ("aws:SourceArn", "CloudFront distribution (OAC)",
     when("StringEquals", "AWS:SourceArn", f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2EX",
          principal={"Service": "cloudfront.amazonaws.com"}), PRIVATE),
    ("aws:SourceArn", "SNS topic, ArnEquals",
     when("ArnEquals", "aws:SourceArn", f"arn:aws:sns:eu-west-1:{ACCOUNT}:uploads"), PRIVATE),
    ("aws:SourceArn", "ArnLike with a fixed value",
     when("ArnLike", "aws:SourceArn", f"arn:aws:sns:eu-west-1:{ACCOUNT}:uploads"), PRIVATE),
    ("aws:SourceArn", "wildcard ARN", when("ArnLike", "aws:SourceArn", "arn:aws:sns:*"), PUBLIC),
    ("aws:SourceArn", "wildcard topic name",
     when("ArnLike", "aws:SourceArn", f"arn:aws:sns:eu-west-1:{ACCOUNT}:*"), PUBLIC),
    ("aws:SourceArn", "policy variable",
     when("ArnEquals", "aws:SourceArn", "${aws:SourceArn}"), PUBLIC),
    ("aws:SourceArn", "negated", when("ArnNotEquals", "aws:SourceArn",
                                      f"arn:aws:sns:eu-west-1:{ACCOUNT}:uploads"), PUBLIC),
    # --- aws:SourceAccount / aws:SourceOwner ---------------------------------------------------
    ("aws:SourceAccount", "fixed string", when("StringEquals", "aws:SourceAccount", ACCOUNT),
     PRIVATE),
    ("aws:SourceAccount", "number", when("StringEquals", "aws:SourceAccount", 111122223333),
     PRIVATE),
    ("aws:SourceAccount", "numbers in a list",
     when("StringEquals", "aws:SourceAccount", [111122223333, 444455556666]), PRIVATE),
    ("aws:SourceAccount", "service principal with account",
     when("StringEquals", "aws:SourceAccount", ACCOUNT,
          principal={"Service": "logging.s3.amazonaws.com"}, action="s3:PutObject"), PRIVATE),
    ("aws:SourceAccount", "policy variable",
     when("StringEquals", "aws:SourceAccount", "${aws:PrincipalAccount}"), PUBLIC),
    ("aws:SourceAccount", "wildcard", when("StringLike", "aws:SourceAccount", "1111*"), PUBLIC),
    ("aws:SourceAccount", "boolean is no account", when("StringEquals", "aws:SourceAccount", True),
     PUBLIC),
    ("aws:SourceAccount", "float is no account",
     when("StringEquals", "aws:SourceAccount", 1.5), PUBLIC),
    ("aws:SourceOwner", "fixed", when("StringEquals", "aws:SourceOwner", ACCOUNT), PRIVATE),
    ("aws:SourceOwner", "number", when("StringEquals", "aws:SourceOwner", 111122223333), PRIVATE),
    ("aws:SourceOwner", "negated", when("StringNotEquals", "aws:SourceOwner", ACCOUNT), PUBLIC),
    # --- aws:PrincipalOrgID / aws:PrincipalOrgPaths --------------------------------------------
    ("aws:PrincipalOrgID", "fixed", when("StringEquals", "aws:PrincipalOrgID", "o-a1b2c3d4e5"),
     PRIVATE),
    ("aws:PrincipalOrgID", "ForAnyValue", when("ForAnyValue:StringEquals", "aws:PrincipalOrgID",
                                               "o-a1b2c3d4e5"), PRIVATE),
    ("aws:PrincipalOrgID", "with SecureTransport",
     allow("*", {"Bool": {"aws:SecureTransport": "true"},
                 "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}), PRIVATE),
    ("aws:PrincipalOrgID", "wildcard", when("StringLike", "aws:PrincipalOrgID", "o-*"), PUBLIC),
    ("aws:PrincipalOrgID", "negated", when("StringNotEquals", "aws:PrincipalOrgID", "o-abc"),
     PUBLIC),
    ("aws:PrincipalOrgID", "ForAllValues",
     when("ForAllValues:StringEquals", "aws:PrincipalOrgID", ["o-abc"]), PUBLIC),
    ("aws:PrincipalOrgID", "policy variable",
     when("StringEquals", "aws:PrincipalOrgID", "${aws:PrincipalOrgID}"), PUBLIC),
    ("aws:PrincipalOrgPaths", "fixed OU path",
     when("ForAnyValue:StringEquals", "aws:PrincipalOrgPaths",
          "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"), PRIVATE),
    ("aws:PrincipalOrgPaths", "fixed root path, StringEquals",
     when("StringEquals", "aws:PrincipalOrgPaths", "o-a1b2c3d4e5/r-ab12/"), PRIVATE),
    ("aws:PrincipalOrgPaths", "wildcard below an OU",
     when("ForAnyValue:StringLike", "aws:PrincipalOrgPaths",
          "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"), PUBLIC),
    ("aws:PrincipalOrgPaths", "every organization",
     when("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-*"), PUBLIC),
    ("aws:PrincipalOrgPaths", "ForAllValues",
     when("ForAllValues:StringEquals", "aws:PrincipalOrgPaths", ["o-a1b2c3d4e5/r-ab12/"]),
     PUBLIC),
    # --- aws:PrincipalAccount / aws:PrincipalArn -----------------------------------------------
    ("aws:PrincipalAccount", "two accounts", when("StringEquals", "aws:PrincipalAccount",
                                                  [ACCOUNT, OTHER], principal={"AWS": "*"}),
     PRIVATE),
    ("aws:PrincipalAccount", "number", when("StringEquals", "aws:PrincipalAccount",
                                            111122223333), PRIVATE),
    ("aws:PrincipalAccount", "policy variable",
     when("StringEquals", "aws:PrincipalAccount", "${aws:PrincipalAccount}"), PUBLIC),
    ("aws:PrincipalAccount", "policy variable among fixed values",
     when("StringEquals", "aws:PrincipalAccount", [ACCOUNT, "${aws:PrincipalAccount}"]), PUBLIC),
    ("aws:PrincipalAccount", "IfExists",
     when("StringEqualsIfExists", "aws:PrincipalAccount", ACCOUNT), PUBLIC),
    ("aws:PrincipalArn", "fixed role", when("ArnEquals", "aws:PrincipalArn",
                                            f"arn:aws:iam::{ACCOUNT}:role/reader"), PRIVATE),
    ("aws:PrincipalArn", "StringEquals, fixed",
     when("StringEquals", "aws:PrincipalArn", f"arn:aws:iam::{ACCOUNT}:role/reader"), PRIVATE),
    ("aws:PrincipalArn", "policy variable",
     when("ArnEquals", "aws:PrincipalArn", "${aws:PrincipalArn}"), PUBLIC),
    ("aws:PrincipalArn", "variable in the ARN",
     when("ArnEquals", "aws:PrincipalArn", "arn:aws:iam::${aws:PrincipalAccount}:role/reader"),
     PUBLIC),
    ("aws:PrincipalArn", "wildcard role", when("ArnLike", "aws:PrincipalArn",
                                               f"arn:aws:iam::{ACCOUNT}:role/*"), PUBLIC),
    # --- aws:userid ----------------------------------------------------------------------------
    ("aws:userid", "IAM user id", when("StringEquals", "aws:userid", "AIDAJQABLZS4A3QDU576Q"),
     PRIVATE),
    ("aws:userid", "one role session", when("StringEquals", "aws:userid",
                                            "AROAEXAMPLEID:jane.doe"), PRIVATE),
    ("aws:userid", "every session of a role (AROLEID:*)",
     when("StringLike", "aws:userid", "AROAEXAMPLEID:*"), PUBLIC),
    ("aws:userid", "role sessions and a user",
     when("StringLike", "aws:userid", ["AROAEXAMPLEID:*", "AIDAJQABLZS4A3QDU576Q"]), PUBLIC),
    ("aws:userid", "session from a variable",
     when("StringEquals", "aws:userid", "AROAEXAMPLEID:${aws:username}"), PUBLIC),
    # --- s3:x-amz-server-side-encryption-aws-kms-key-id ----------------------------------------
    ("s3:x-amz-server-side-encryption-aws-kms-key-id", "fixed key ARN",
     when("StringEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id",
          f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
          action="s3:PutObject"), PRIVATE),
    ("s3:x-amz-server-side-encryption-aws-kms-key-id", "wildcard key",
     when("StringLike", "s3:x-amz-server-side-encryption-aws-kms-key-id",
          f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*", action="s3:PutObject"), PUBLIC),
    ("s3:x-amz-server-side-encryption-aws-kms-key-id", "negated",
     when("StringNotEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id",
          f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd", action="s3:PutObject"), PUBLIC),
    # --- s3:DataAccessPointAccount / s3:DataAccessPointArn -------------------------------------
    ("s3:DataAccessPointAccount", "delegation to the account's access points",
     when("StringEquals", "s3:DataAccessPointAccount", ACCOUNT, principal={"AWS": "*"},
          action="*", resource=[BUCKET, OBJECTS]), PRIVATE),
    ("s3:DataAccessPointAccount", "number",
     when("StringEquals", "s3:DataAccessPointAccount", 111122223333, principal={"AWS": "*"}),
     PRIVATE),
    ("s3:DataAccessPointAccount", "not an account id",
     when("StringEquals", "s3:DataAccessPointAccount", "my-account", principal={"AWS": "*"}),
     PUBLIC),
    ("s3:DataAccessPointAccount", "wildcard",
     when("StringLike", "s3:DataAccessPointAccount", "*", principal={"AWS": "*"}), PUBLIC),
    ("s3:DataAccessPointAccount", "policy variable",
     when("StringEquals", "s3:DataAccessPointAccount", "${aws:PrincipalAccount}",
          principal={"AWS": "*"}), PUBLIC),
    ("s3:DataAccessPointArn", "one access point",
     when("StringEquals", "s3:DataAccessPointArn",
          f"arn:aws:s3:eu-west-1:{ACCOUNT}:accesspoint/analytics", principal={"AWS": "*"}),
     PRIVATE),
    ("s3:DataAccessPointArn", "every access point of a fixed account",
     when("StringLike", "s3:DataAccessPointArn",
          f"arn:aws:s3:us-west-2:{ACCOUNT}:accesspoint/*", principal={"AWS": "*"}), PRIVATE),
    ("s3:DataAccessPointArn", "any account's access points",
     when("StringLike", "s3:DataAccessPointArn", "arn:aws:s3:us-west-2:*:accesspoint/*",
          principal={"AWS": "*"}), PUBLIC),
    ("s3:DataAccessPointArn", "any region",
     when("StringLike", "s3:DataAccessPointArn", f"arn:aws:s3:*:{ACCOUNT}:accesspoint/*",
          principal={"AWS": "*"}), PUBLIC),
    ("s3:DataAccessPointArn", "not an access point ARN",
     when("StringEquals", "s3:DataAccessPointArn", "analytics", principal={"AWS": "*"}), PUBLIC),
    ("s3:DataAccessPointArn", "policy variable",
     when("StringEquals", "s3:DataAccessPointArn",
          f"arn:aws:s3:eu-west-1:{ACCOUNT}:accesspoint/${{aws:username}}",
          principal={"AWS": "*"}), PUBLIC),
    # --- keys that never narrow ----------------------------------------------------------------
    ("aws:SourceOrgID", "fixed organization (not on S3's list)",
     when("StringEquals", "aws:SourceOrgID", "o-a1b2c3d4e5",
          principal={"Service": "cloudtrail.amazonaws.com"}, action="s3:PutObject"), PRIVATE),
    ("aws:SourceOrgID", "fixed organization, everyone",
     when("StringEquals", "aws:SourceOrgID", "o-a1b2c3d4e5"), PUBLIC),
    ("aws:SourceOrgPaths", "fixed OU path, everyone",
     when("ForAnyValue:StringEquals", "aws:SourceOrgPaths", "o-a1b2c3d4e5/r-ab12/"), PUBLIC),
    ("other keys", "Referer", when("StringLike", "aws:Referer", "https://www.example.com/*"),
     PUBLIC),
    ("other keys", "fixed Referer", when("StringEquals", "aws:Referer",
                                         "https://www.example.com/"), PUBLIC),
    ("other keys", "SecureTransport alone", when("Bool", "aws:SecureTransport", "true"), PUBLIC),
    ("other keys", "prefix", when("StringEquals", "s3:prefix", "public/", action="s3:ListBucket",
                                  resource=BUCKET), PUBLIC),
    ("other keys", "object tag", when("StringEquals", "s3:ExistingObjectTag/public", "true"),
     PUBLIC),
    ("other keys", "canned ACL on upload", when("StringEquals", "s3:x-amz-acl",
                                                "bucket-owner-full-control",
                                                action="s3:PutObject"), PUBLIC),
    ("other keys", "date window", when("DateLessThan", "aws:CurrentTime",
                                       "2030-01-01T00:00:00Z"), PUBLIC),
    ("other keys", "Null check", when("Null", "aws:SourceVpce", "false"), PUBLIC),
    ("other keys", "principal type", when("StringEquals", "aws:PrincipalType", "AssumedRole"),
     PUBLIC),
    ("other keys", "username variable in a prefix",
     when("StringLike", "s3:prefix", "home/${aws:username}/*", action="s3:ListBucket",
          resource=BUCKET), PUBLIC),
    ("other keys", "numeric operator on an account key",
     when("NumericEquals", "aws:SourceAccount", 111122223333), PUBLIC),
]


@pytest.mark.parametrize(("row", "case", "statement", "public"), CORPUS,
                         ids=[f"{row}: {case}" for row, case, _, _ in CORPUS])
def test_each_statement_gets_the_documented_verdict(row: str, case: str,
                                                    statement: dict[str, Any],
                                                    public: bool) -> None:
    analysis = analyse(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert bool(analysis.public) is public


def test_the_corpus_is_large_and_names_every_row_of_the_table() -> None:
    assert len(CORPUS) >= 100
    assert len({(row, case) for row, case, _, _ in CORPUS}) == len(CORPUS)
    rows = {row for row, _, _, _ in CORPUS}
    assert rows >= {"principal", "aws:SourceIp", "aws:SourceVpce", "aws:SourceVpc",
                    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:PrincipalOrgID",
                    "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
                    "aws:userid", "s3:x-amz-server-side-encryption-aws-kms-key-id",
                    "s3:DataAccessPointAccount", "s3:DataAccessPointArn", "aws:SourceOrgID",
                    "aws:SourceOrgPaths", "other keys"}
    # Each narrowing row has a case on each side.
    for row in rows - {"other keys", "aws:SourceOrgPaths"}:
        assert {public for r, _, _, public in CORPUS if r == row} == {True, False}, row
