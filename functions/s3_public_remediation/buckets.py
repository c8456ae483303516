"""Live reads of S3 (never the event's copy), in as few calls as the bucket's settings allow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opskit.actions import error_code
from opskit.tags import tags_to_dict
from s3_public_remediation.access import BlockPublicAccess
from s3_public_remediation.planner import BucketState

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3control import S3ControlClient

NO_BLOCK_CONFIG = "NoSuchPublicAccessBlockConfiguration"
# ListBuckets pages hold up to 10,000 buckets: one call lists most accounts.
LIST_PAGE_SIZE = 10_000


def lists_by_region(s3: S3Client) -> bool:
    """Whether this botocore can filter ListBuckets by region (BucketRegion, from 1.35.42)."""
    shape = s3.meta.service_model.operation_model("ListBuckets").input_shape
    return shape is not None and "BucketRegion" in shape.members


def bucket_region(location_constraint: str | None) -> str:
    """GetBucketLocation's answer as a region: none means us-east-1, and EU is eu-west-1
    (the S3 API reference, GetBucketLocation)."""
    if not location_constraint:
        return "us-east-1"
    return "eu-west-1" if location_constraint == "EU" else location_constraint


class BucketGoneError(Exception):
    """The bucket no longer exists (deleted since the event)."""


def _absent(exc: ClientError, *codes: str) -> bool:
    code = error_code(exc)
    if code == "NoSuchBucket":
        raise BucketGoneError(str(exc)) from None
    return code in codes


class BucketReader:
    """Reads one account's buckets in one region; the account's Block Public Access is read once."""

    def __init__(self, s3: S3Client, s3control: S3ControlClient, account_id: str) -> None:
        self.s3 = s3
        self.s3control = s3control
        self.account_id = account_id
        self._account_block: BlockPublicAccess | None = None

    def account_block(self) -> BlockPublicAccess:
        if self._account_block is None:
            try:
                response = self.s3control.get_public_access_block(AccountId=self.account_id)
                config: Any = response.get("PublicAccessBlockConfiguration")
            except ClientError as exc:
                if error_code(exc) != NO_BLOCK_CONFIG:
                    raise
                config = None
            self._account_block = BlockPublicAccess.from_api(config)
        return self._account_block

    def bucket_names(self, region: str) -> Iterator[str]:
        """The buckets of one region: filtered by ListBuckets itself where the runtime's botocore
        knows `BucketRegion` (1.35.42 and later), else the whole listing and each bucket's
        GetBucketLocation (one more call a bucket and region swept) instead of a failed sweep."""
        if not lists_by_region(self.s3):
            yield from self._bucket_names_by_location(region)
            return
        paginator = self.s3.get_paginator("list_buckets")
        for page in paginator.paginate(BucketRegion=region,
                                       PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
            for bucket in page.get("Buckets", []):
                yield bucket["Name"]

    def _bucket_names_by_location(self, region: str) -> Iterator[str]:
        if self.s3.can_paginate("list_buckets"):
            pages: Iterator[Any] = iter(self.s3.get_paginator("list_buckets").paginate(
                PaginationConfig={"PageSize": LIST_PAGE_SIZE}))
        else:
            pages = iter([self.s3.list_buckets()])
        for page in pages:
            for bucket in page.get("Buckets", []):
                try:
                    location = bucket_region(self.s3.get_bucket_location(
                        Bucket=bucket["Name"]).get("LocationConstraint"))
                except ClientError as exc:
                    if error_code(exc) == "NoSuchBucket":
                        continue  # deleted since the listing
                    # Denied by the bucket's policy: S3 still names its region in a header.
                    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                    if not headers.get("x-amz-bucket-region"):
                        raise
                    location = headers["x-amz-bucket-region"]
                if location == region:
                    yield bucket["Name"]

    def state(self, bucket: str) -> BucketState:
        """Block Public Access first: when it neutralises everything, nothing else is read."""
        account = self.account_block()
        try:
            config: Any = self.s3.get_public_access_block(Bucket=bucket)[
                "PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if not _absent(exc, NO_BLOCK_CONFIG):
                raise
            config = None
        block = BlockPublicAccess.from_api(config)
        effective = account.combined(block)
        acl = None if effective.ignore_public_acls else self.acl(bucket)
        policy = None if effective.restrict_public_buckets else self.policy(bucket)
        return BucketState(bucket, account, block, acl, policy)

    def acl(self, bucket: str) -> dict[str, Any]:
        try:
            response = self.s3.get_bucket_acl(Bucket=bucket)
        except ClientError as exc:
            _absent(exc)  # BucketGoneError for a deleted bucket
            raise
        return {"Owner": response.get("Owner", {}), "Grants": response.get("Grants", [])}

    def policy(self, bucket: str) -> str | None:
        """The policy's text as S3 stores it; None when the bucket has none."""
        try:
            return self.s3.get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as exc:
            if _absent(exc, "NoSuchBucketPolicy"):
                return None
            raise

    def tags(self, bucket: str) -> dict[str, str]:
        try:
            return tags_to_dict(self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
        except ClientError as exc:
            if _absent(exc, "NoSuchTagSet"):
                return {}
            raise

    def ownership(self, bucket: str) -> str | None:
        try:
            rules = self.s3.get_bucket_ownership_controls(Bucket=bucket)[
                "OwnershipControls"]["Rules"]
        except ClientError as exc:
            if _absent(exc, "OwnershipControlsNotFoundError"):
                return None
            raise
        return str(rules[0]["ObjectOwnership"]) if rules else None
