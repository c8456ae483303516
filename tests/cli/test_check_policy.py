"""`opskit check-policy`: the remediation's own verdict on a policy, statement by statement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.conftest import Opskit

BUCKET = "arn:aws:s3:::example-bucket/*"
PUBLIC_READ = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
               "Action": "s3:GetObject", "Resource": BUCKET}
FROM_THE_VPC = {"Sid": "FromTheVpc", "Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": "s3:GetObject", "Resource": BUCKET,
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}
DENY_HTTP = {"Sid": "DenyHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": BUCKET, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_a_public_statement_is_named_and_the_narrowed_one_explained(
        opskit: Opskit, tmp_path: Path) -> None:
    ran = opskit("check-policy", write(tmp_path, "p.json",
                                       policy(PUBLIC_READ, FROM_THE_VPC, DENY_HTTP)))
    assert ran.status == 1  # public
    assert ran.out.startswith("verdict: PUBLIC\n")
    assert ("PUBLIC   statement 'PublicRead': allows Principal \"*\" s3:GetObject with no "
            "narrowing condition") in ran.out
    assert ("private  statement 'FromTheVpc': allows Principal {\"AWS\": \"*\"}, narrowed by "
            "the condition StringEquals aws:SourceVpce") in ran.out
    assert "private  statement 'DenyHttp': Deny" in ran.out
    assert "would remove 1 statement(s) and keep 2" in ran.out


def test_narrowed_statements_only_are_not_public(opskit: Opskit, tmp_path: Path) -> None:
    ran = opskit("check-policy", write(tmp_path, "p.json", policy(FROM_THE_VPC)), "--json")
    assert ran.status == 0
    verdict = json.loads(ran.out)
    assert verdict["public"] is False
    assert verdict["statements"][0]["public"] is False


def test_the_output_of_get_bucket_policy_is_read(opskit: Opskit, tmp_path: Path) -> None:
    wrapped = {"Policy": json.dumps(policy(PUBLIC_READ))}
    ran = opskit("check-policy", write(tmp_path, "p.json", wrapped), "--json")
    assert ran.status == 1
    assert json.loads(ran.out)["reasons"] == [
        "policy statement 'PublicRead' allows Principal \"*\" s3:GetObject with no narrowing "
        "condition"]


def test_block_public_access_and_the_acl(opskit: Opskit, tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", policy(PUBLIC_READ))
    acl = write(tmp_path, "acl.json", {"Grants": [
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
         "Permission": "READ"}]})
    neutralised = opskit("check-policy", path, "--block", "RestrictPublicBuckets")
    assert neutralised.status == 0
    assert "neutralised by RestrictPublicBuckets" in neutralised.out
    by_acl = opskit("check-policy", path, "--block", "RestrictPublicBuckets", "--acl", acl)
    assert by_acl.status == 1
    assert "ACL grants READ to AllUsers" in by_acl.out
    both = opskit("check-policy", path, "--block", "RestrictPublicBuckets",
                  "--block", "IgnorePublicAcls", "--acl", acl)
    assert both.status == 0


def test_errors_name_the_argument(opskit: Opskit, tmp_path: Path) -> None:
    ran = opskit("check-policy", write(tmp_path, "p.json", {"Statement": "nope"}))
    assert ran.status == 2
    assert "argument POLICY: Statement='nope' is invalid" in ran.err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    ran = opskit("check-policy", str(bad))
    assert ran.status == 2
    assert "argument POLICY: policy is not valid JSON" in ran.err
    ran = opskit("check-policy", str(tmp_path / "missing.json"))
    assert ran.status == 2
    assert "argument POLICY: cannot read" in ran.err
    ran = opskit("check-policy", str(bad), "--acl", str(bad))
    assert ran.status == 2
    ran = opskit("check-policy", str(bad), "--block", "BlockEverything")
    assert ran.status == 2
    assert "argument --block: invalid choice: 'BlockEverything'" in ran.err
