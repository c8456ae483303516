"""Read a resource's tags and add only the missing ones, one small adapter per service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from auto_tagger.resources import (
    DYNAMODB,
    EC2,
    ELBV2,
    IAM_ROLE,
    IAM_USER,
    LAMBDA,
    RDS,
    S3,
    SNS,
    SQS,
)
from opskit.actions import Action, chunks, error_code, resources
from opskit.tags import dict_to_tags, tags_to_dict

if TYPE_CHECKING:
    import boto3

S3_TAG_LIMIT = 50
FILTER_VALUES_MAX = 200


@dataclass(frozen=True, slots=True)
class AddTags:
    """What a tagging call sends: the tags the resource is missing."""

    tags: Mapping[str, str]


@dataclass
class Taggers:
    """Tag readers and writers for one (account, region); clients are made on first use."""

    session: boto3.Session
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self.session.client(name)  # type: ignore[call-overload]
        return self._clients[name]

    # ---------------------------------------------------------------- reading
    def existing_tags(self, service: str, ids: Sequence[str]
                      ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """Resource id -> its current tags, and resource id -> why it could not be read.

        EC2 is read in one paginated DescribeTags per 200 ids (an error there fails the event);
        other services one resource at a time, so one deleted or denied resource fails alone.
        """
        found: dict[str, dict[str, str]] = {}
        errors: dict[str, str] = {}
        if service == EC2:
            found = {resource: {} for resource in ids}
            for batch in chunks(ids, FILTER_VALUES_MAX):
                pages = self.client("ec2").get_paginator("describe_tags").paginate(
                    Filters=[{"Name": "resource-id", "Values": list(batch)}])
                for page in pages:
                    for tag in page["Tags"]:
                        found[tag["ResourceId"]][tag["Key"]] = tag.get("Value", "")
            return found, errors
        for resource in ids:
            try:
                found[resource] = self._read_one(service, resource)
            except ClientError as exc:
                errors[resource] = f"{error_code(exc)}: could not read its tags"
        return found, errors

    def _read_one(self, service: str, resource: str) -> dict[str, str]:
        if service == S3:
            s3 = self.client("s3")
            try:
                return tags_to_dict(s3.get_bucket_tagging(Bucket=resource)["TagSet"])
            except s3.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchTagSet":
                    return {}
                raise
        if service == RDS:
            return tags_to_dict(self.client("rds").list_tags_for_resource(
                ResourceName=resource)["TagList"])
        if service == LAMBDA:
            return dict(self.client("lambda").list_tags(Resource=resource).get("Tags", {}))
        if service == DYNAMODB:
            return tags_to_dict(self.client("dynamodb").list_tags_of_resource(
                ResourceArn=resource).get("Tags", []))
        if service == SNS:
            return tags_to_dict(self.client("sns").list_tags_for_resource(
                ResourceArn=resource).get("Tags", []))
        if service == SQS:
            return dict(self.client("sqs").list_queue_tags(QueueUrl=resource).get("Tags", {}))
        if service == ELBV2:
            descriptions = self.client("elbv2").describe_tags(
                ResourceArns=[resource])["TagDescriptions"]
            return tags_to_dict(descriptions[0].get("Tags", [])) if descriptions else {}
        if service == IAM_ROLE:
            return tags_to_dict(self.client("iam").list_role_tags(RoleName=resource)["Tags"])
        if service == IAM_USER:
            return tags_to_dict(self.client("iam").list_user_tags(UserName=resource)["Tags"])
        raise ValueError(f"service={service!r} is invalid: expected a supported service")

    # ---------------------------------------------------------------- writing
    def add_tags(self, batch: Sequence[Action]) -> None:
        """Add the batch's `AddTags` to every resource of it (same service, same tags)."""
        service = batch[0].resource_type
        tags = batch[0].params_as(AddTags).tags
        first = batch[0].resource
        if service == EC2:
            self.client("ec2").create_tags(Resources=resources(batch), Tags=dict_to_tags(tags))
        elif service == S3:
            # S3 replaces the whole set: read, merge (ours never overwrite), write.
            merged = {**tags, **self._read_one(S3, first)}
            self.client("s3").put_bucket_tagging(Bucket=first,
                                                 Tagging={"TagSet": dict_to_tags(merged)})
        elif service == RDS:
            self.client("rds").add_tags_to_resource(ResourceName=first, Tags=dict_to_tags(tags))
        elif service == LAMBDA:
            self.client("lambda").tag_resource(Resource=first, Tags=dict(tags))
        elif service == DYNAMODB:
            self.client("dynamodb").tag_resource(ResourceArn=first, Tags=dict_to_tags(tags))
        elif service == SNS:
            self.client("sns").tag_resource(ResourceArn=first, Tags=dict_to_tags(tags))
        elif service == SQS:
            self.client("sqs").tag_queue(QueueUrl=first, Tags=dict(tags))
        elif service == ELBV2:
            self.client("elbv2").add_tags(ResourceArns=[first], Tags=dict_to_tags(tags))
        elif service == IAM_ROLE:
            self.client("iam").tag_role(RoleName=first, Tags=dict_to_tags(tags))
        elif service == IAM_USER:
            self.client("iam").tag_user(UserName=first, Tags=dict_to_tags(tags))
        else:
            raise ValueError(f"service={service!r} is invalid: expected a supported service")
