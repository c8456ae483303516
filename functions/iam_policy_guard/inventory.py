"""IAM reads: principals, managed policy versions, inline policies, the account snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from iam_policy_guard.documents import load_document
from iam_policy_guard.planner import Kind, Principal
from opskit.tags import tags_to_dict

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

NOT_FOUND = "NoSuchEntity"


def is_aws_managed(policy_arn: str) -> bool:
    return policy_arn.split(":", 5)[4:5] == ["aws"]


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == NOT_FOUND


@dataclass(frozen=True, slots=True)
class Version:
    id: str
    default: bool
    created: str  # ISO time, to order versions (ids are not reused but may skip numbers)


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    default_version: str | None
    tags: dict[str, str]  # GetPolicy returns them (the exemption tag is honoured on them)


@dataclass
class IamReader:
    iam: IAMClient
    # AWS managed documents, read once per invocation (one reader per invocation and target).
    _aws_documents: dict[str, Any] = field(default_factory=dict, repr=False)
    # Customer managed documents iam:PolicyARN names, read once per invocation.
    _documents: dict[str, Any] = field(default_factory=dict, repr=False)

    def managed_policy(self, policy_arn: str) -> ManagedPolicy | None:
        """The policy's default version and tags, None when it no longer exists."""
        try:
            policy = self.iam.get_policy(PolicyArn=policy_arn)["Policy"]
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return ManagedPolicy(policy.get("DefaultVersionId"), tags_to_dict(policy.get("Tags")))

    def aws_managed_document(self, policy_arn: str) -> Any | None:
        """An AWS managed policy's default document (GetPolicy, GetPolicyVersion), cached for
        the invocation; None when the policy does not exist."""
        if policy_arn not in self._aws_documents:
            version = self.default_version(policy_arn)
            self._aws_documents[policy_arn] = (
                None if version is None else self.version_document(policy_arn, version))
        return self._aws_documents[policy_arn]

    def policy_document(self, policy_arn: str) -> Any | None:
        """Any managed policy's default document, for judging what iam:PolicyARN lets attach;
        None when it cannot be read (missing, another account's): then it limits nothing."""
        if is_aws_managed(policy_arn):
            try:
                return self.aws_managed_document(policy_arn)
            except ClientError:
                return None
        if policy_arn not in self._documents:
            try:
                version = self.default_version(policy_arn)
                self._documents[policy_arn] = (
                    None if version is None else self.version_document(policy_arn, version))
            except ClientError:
                self._documents[policy_arn] = None
        return self._documents[policy_arn]

    def groups_of(self, user_name: str) -> list[str]:
        """The groups the user belongs to ([] when it is gone)."""
        try:
            return [group["GroupName"] for page in self.iam.get_paginator(
                "list_groups_for_user").paginate(UserName=user_name) for group in page["Groups"]]
        except ClientError as exc:
            if _missing(exc):
                return []
            raise

    def members(self, group_name: str) -> list[str]:
        """The users of the group (GetGroup, paginated; [] when it is gone)."""
        try:
            return [user["UserName"] for page in self.iam.get_paginator("get_group").paginate(
                GroupName=group_name) for user in page["Users"]]
        except ClientError as exc:
            if _missing(exc):
                return []
            raise

    def holders(self, policy_arn: str) -> list[tuple[Kind, str]]:
        """Every user, role and group the managed policy is attached to (paginated)."""
        found: list[tuple[Kind, str]] = []
        for page in self.iam.get_paginator("list_entities_for_policy").paginate(
                PolicyArn=policy_arn):
            found.extend(("user", u["UserName"]) for u in page.get("PolicyUsers", []))
            found.extend(("role", r["RoleName"]) for r in page.get("PolicyRoles", []))
            found.extend(("group", g["GroupName"]) for g in page.get("PolicyGroups", []))
        return found

    def principal(self, kind: Kind, name: str) -> Principal | None:
        """The principal and its tags, None when it no longer exists."""
        try:
            if kind == "user":
                user = self.iam.get_user(UserName=name)["User"]
                return Principal("user", name, user["Arn"], user.get("Path", "/"),
                                 tags_to_dict(user.get("Tags")))
            if kind == "role":
                role = self.iam.get_role(RoleName=name)["Role"]
                return Principal("role", name, role["Arn"], role.get("Path", "/"),
                                 tags_to_dict(role.get("Tags")))
            group = self.iam.get_group(GroupName=name, MaxItems=1)["Group"]
            return Principal("group", name, group["Arn"], group.get("Path", "/"))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def trust_policy(self, role_name: str) -> dict[str, Any] | None:
        try:
            document = self.iam.get_role(RoleName=role_name)["Role"].get(
                "AssumeRolePolicyDocument")
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return load_document(document) if document else None

    def default_version(self, policy_arn: str) -> str | None:
        try:
            return self.iam.get_policy(PolicyArn=policy_arn)["Policy"].get("DefaultVersionId")
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def version_document(self, policy_arn: str, version_id: str) -> Any:
        version = self.iam.get_policy_version(PolicyArn=policy_arn, VersionId=version_id)
        return version["PolicyVersion"].get("Document")

    def versions(self, policy_arn: str) -> list[Version]:
        """Newest first."""
        found = [Version(v["VersionId"], bool(v.get("IsDefaultVersion")),
                         v["CreateDate"].isoformat())
                 for page in self.iam.get_paginator("list_policy_versions").paginate(
                     PolicyArn=policy_arn) for v in page["Versions"]]
        return sorted(found, key=lambda v: (v.created, v.id), reverse=True)

    def inline_policy(self, kind: Kind, name: str, policy_name: str) -> Any | None:
        """The inline policy's document, None when it no longer exists."""
        try:
            if kind == "user":
                return self.iam.get_user_policy(UserName=name,
                                                PolicyName=policy_name)["PolicyDocument"]
            if kind == "role":
                return self.iam.get_role_policy(RoleName=name,
                                                PolicyName=policy_name)["PolicyDocument"]
            return self.iam.get_group_policy(GroupName=name,
                                             PolicyName=policy_name)["PolicyDocument"]
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def attached(self, kind: Kind, name: str) -> list[str]:
        """The managed policy ARNs attached to the principal ([] when it is gone)."""
        try:
            if kind == "user":
                pages: Any = self.iam.get_paginator("list_attached_user_policies").paginate(
                    UserName=name)
            elif kind == "role":
                pages = self.iam.get_paginator("list_attached_role_policies").paginate(
                    RoleName=name)
            else:
                pages = self.iam.get_paginator("list_attached_group_policies").paginate(
                    GroupName=name)
            return [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]
        except ClientError as exc:
            if _missing(exc):
                return []
            raise

    def inline_names(self, kind: Kind, name: str) -> list[str]:
        try:
            if kind == "user":
                pages: Any = self.iam.get_paginator("list_user_policies").paginate(UserName=name)
            elif kind == "role":
                pages = self.iam.get_paginator("list_role_policies").paginate(RoleName=name)
            else:
                pages = self.iam.get_paginator("list_group_policies").paginate(GroupName=name)
            return [policy for page in pages for policy in page["PolicyNames"]]
        except ClientError as exc:
            if _missing(exc):
                return []
            raise

    def authorization_details(self) -> Iterator[dict[str, Any]]:
        """Every page of the account's snapshot: users, groups, roles, customer managed
        policies with all their versions (boto3 decodes the URL-encoded documents)."""
        paginator = self.iam.get_paginator("get_account_authorization_details")
        for page in paginator.paginate(Filter=["User", "Role", "Group", "LocalManagedPolicy"]):
            yield dict(page)
