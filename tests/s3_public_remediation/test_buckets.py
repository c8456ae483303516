"""Listing a region's buckets on any supported botocore: filtered by ListBuckets where it knows
`BucketRegion`, by each bucket's location where it does not (the artifact test runs the old one)."""

from __future__ import annotations

import boto3
import pytest

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
