"""Listing a region's buckets on any supported botocore: filtered by ListBuckets where it knows
`BucketRegion`, by each bucket's location where it does not (the artifact test runs the old one)."""

from __future__ import annotations

from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from s3_public_remediation import buckets
from s3_public_remediation.buckets import BucketReader, bucket_region, lists_by_region
from tests.conftest import ACCOUNT, ApiCalls

REGIONS = {"logs-ireland": "eu-west-1", "data-ireland": "eu-west-1",
           "data-virginia": "us-east-1", "data-frankfurt": "eu-central-1"}


def _create(name: str, region: str) -> None:
    s3 = boto3.client("s3", region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def _reader() -> BucketReader:
    return BucketReader(boto3.client("s3"), boto3.client("s3control"), ACCOUNT)


def test_the_dev_botocore_filters_by_region() -> None:
    assert lists_by_region(boto3.client("s3", region_name="eu-west-1"))


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("filtered", [True, False], ids=["BucketRegion", "GetBucketLocation"])
def test_a_region_lists_its_own_buckets_only(filtered: bool, monkeypatch: pytest.MonkeyPatch,
                                             api_calls: ApiCalls) -> None:
    for name, region in REGIONS.items():
        _create(name, region)
    monkeypatch.setattr(buckets, "lists_by_region", lambda _s3: filtered)
    reader = _reader()
    api_calls.reset()
    assert sorted(reader.bucket_names("eu-west-1")) == ["data-ireland", "logs-ireland"]
    assert api_calls.of("s3", "ListBuckets") == 1
    # The fallback costs one GetBucketLocation a bucket of the account.
    assert api_calls.of("s3", "GetBucketLocation") == (0 if filtered else len(REGIONS))


@pytest.mark.parametrize(("constraint", "region"), [
    (None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"), ("eu-west-1", "eu-west-1"),
    ("ap-southeast-2", "ap-southeast-2")])
def test_bucket_location_constraints_name_regions(constraint: str | None, region: str) -> None:
    assert bucket_region(constraint) == region


class _OldS3:
    """An S3 client of a botocore without BucketRegion nor the ListBuckets paginator."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.located: list[str] = []

    def can_paginate(self, _operation: str) -> bool:
        return False

    def list_buckets(self) -> dict[str, Any]:
        return {"Buckets": [{"Name": name} for name in self.answers]}

    def get_bucket_location(self, Bucket: str) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.located.append(Bucket)
        answer = self.answers[Bucket]
        if isinstance(answer, ClientError):
            raise answer
        return {"LocationConstraint": answer}


def _denied(region_header: str | None) -> ClientError:
    headers = {"x-amz-bucket-region": region_header} if region_header else {}
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"},
                        "ResponseMetadata": {"HTTPHeaders": headers}}, "GetBucketLocation")


def test_the_fallback_skips_vanished_buckets_and_reads_a_denied_buckets_region_header(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buckets, "lists_by_region", lambda _s3: False)
    old = _OldS3({"eu-legacy": "EU", "gone": ClientError(
        {"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "GetBucketLocation"),
        "locked-ireland": _denied("eu-west-1"), "virginia": None})
    reader = BucketReader(cast(Any, old), cast(Any, None), ACCOUNT)
    assert list(reader.bucket_names("eu-west-1")) == ["eu-legacy", "locked-ireland"]
    assert old.located == ["eu-legacy", "gone", "locked-ireland", "virginia"]


def test_the_fallback_fails_the_sweep_when_a_bucket_region_cannot_be_known(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buckets, "lists_by_region", lambda _s3: False)
    reader = BucketReader(cast(Any, _OldS3({"secret": _denied(None)})), cast(Any, None), ACCOUNT)
    with pytest.raises(ClientError, match="AccessDenied"):
        list(reader.bucket_names("eu-west-1"))
