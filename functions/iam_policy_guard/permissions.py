"""The IAM actions this automation's AWS calls need (docs/opskit.md, Permissions)."""

from __future__ import annotations

from opskit.permissions import REPORTS, TARGETS, Permissions

# Reads: the snapshot, principals, policies and their versions. Writes (remediate, quarantine):
# the template grants them only on principals without the exemption tag.
READS = ("GetAccountAuthorizationDetails", "GetPolicy", "GetPolicyVersion", "ListPolicyVersions",
         "GetRole", "GetUser", "GetGroup", "GetRolePolicy", "GetUserPolicy", "GetGroupPolicy",
         "ListAttachedRolePolicies", "ListAttachedUserPolicies", "ListAttachedGroupPolicies",
         "ListRolePolicies", "ListUserPolicies", "ListGroupPolicies", "ListGroupsForUser",
         "ListEntitiesForPolicy")
WRITES = ("SetDefaultPolicyVersion", "DetachRolePolicy", "DetachUserPolicy", "DetachGroupPolicy",
          "DeleteRolePolicy", "DeleteUserPolicy", "DeleteGroupPolicy", "UpdateAssumeRolePolicy",
          "AttachRolePolicy", "AttachUserPolicy")
PERMISSIONS = REPORTS | TARGETS | Permissions(calls={"iam": READS + WRITES})
