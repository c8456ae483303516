"""Sample buckets in the moto account, shared by tests, the event harness and the demo."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any
from unittest.mock import patch

import boto3

REGION = "eu-west-1"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
OWN_ROLE = "opskit-S3PublicRemediationFunctionRole-AbC123dEf456"


def public_read(bucket: str, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                                 "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    if condition:
        statement["Condition"] = condition
    return statement


def cloudfront_oac(bucket: str) -> dict[str, Any]:
    return {"Sid": "CloudFrontOAC", "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {
                "AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE0001"}}}


def make_bucket(name: str, *, grants: tuple[str, ...] = (), statements: list[Any] | None = None,
                block: Mapping[str, bool] | None = None, ownership: str | None = None,
                tags: Mapping[str, str] | None = None, region: str = REGION,
                session: boto3.Session | None = None) -> str:
    """A bucket with group READ grants (`grants` = group URIs), a policy, settings and tags."""
    s3 = (session or boto3).client("s3", region_name=region)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})  # type: ignore[typeddict-item]
    if ownership:
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})  # type: ignore[typeddict-item]
    if grants:
        acl = s3.get_bucket_acl(Bucket=name)
        extra = [{"Grantee": {"Type": "Group", "URI": uri}, "Permission": "READ"}
                 for uri in grants]
        s3.put_bucket_acl(Bucket=name, AccessControlPolicy={
            "Grants": [*acl["Grants"], *extra], "Owner": acl["Owner"]})  # type: ignore[typeddict-item]
    if statements:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
    if block is not None:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(block))  # type: ignore[arg-type]
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={
            "TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    return name


def sample_buckets(session: boto3.Session | None = None) -> list[str]:
    """The buckets the sample events name, in the states their calls describe."""
    return [
        make_bucket("acme-new-uploads", grants=(ALL_USERS,), session=session),
        make_bucket("acme-press-kit", grants=(ALL_USERS,), session=session),
        make_bucket("acme-public-datasets",
                    statements=[public_read("acme-public-datasets"),
                                cloudfront_oac("acme-public-datasets")], session=session),
        make_bucket("acme-app-assets", session=session),
        make_bucket("acme-build-artifacts", grants=(AUTHENTICATED,),
                    block={"BlockPublicAcls": False, "IgnorePublicAcls": False,
                           "BlockPublicPolicy": False, "RestrictPublicBuckets": False},
                    session=session),
        make_bucket("acme-www", statements=[public_read("acme-www")],
                    tags={"opskit:public-access": "allow"}, session=session),
        make_bucket("acme-legacy-logs", grants=(LOG_DELIVERY,), ownership="ObjectWriter",
                    session=session),
        make_bucket("acme-private", block={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                           "BlockPublicPolicy": True,
                                           "RestrictPublicBuckets": True}, session=session),
    ]


def seed(name: str) -> AbstractContextManager[Any] | None:
    sample_buckets()
    if name == "skip-own-call":
        # The role the template names in OWN_ROLE_NAME, as the sample record shows it.
        return patch.dict(os.environ, {"OWN_ROLE_NAME": OWN_ROLE})
    return None
