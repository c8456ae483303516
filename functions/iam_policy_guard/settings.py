"""The IAM policy guard's configuration, read once from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from opskit.config import CommonConfig, ConfigError, Env, is_account_id

AUTOMATION = "iam_policy_guard"
# IAM is global: its CloudTrail events reach EventBridge in us-east-1 only.
IAM_REGION = "us-east-1"
_ARN_GLOB = re.compile(r"arn:[\w*?-]+:iam::[\d*?]*:[\w*?+=,.@/-]+")
_POLICY_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:policy/[\w+=,.@/-]+")
_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
_PREFIX = re.compile(r"[\w+=,.@-]{1,64}")


def _glob_segment(pattern: str, *, digits: bool = False) -> str:
    """One ARN segment's glob as a regex: `*` and `?` never cross `:` nor `/` (IAM paths may
    hold both, so a crafted path cannot reach a name glob); `**` crosses `/` (paths), never `:`.
    In the account segment the wildcards match digits only."""
    one, many = (r"\d", r"\d*") if digits else (r"[^:/]", r"[^:/]*")
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i) and not digits:
            out.append(r"[^:]*")
            i += 2
        elif pattern[i] == "*":
            out.append(many)
            i += 1
        elif pattern[i] == "?":
            out.append(one)
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def arn_glob_matches(pattern: str, arn: str) -> bool:
    """Segment-aware ARN glob: arn:partition:service:region:account:resource, each segment
    matched on its own (a wildcard never spans a `:`); the account segment is digits (or the
    literal `aws` of AWS managed policies, matched only when the pattern says `aws`)."""
    globs, parts = pattern.split(":", 5), arn.split(":", 5)
    if len(globs) != 6 or len(parts) != 6:
        return False
    for index, (glob, part) in enumerate(zip(globs, parts, strict=True)):
        account = index == 4
        if account and glob != part and not part.isdigit():
            return False
        if re.fullmatch(_glob_segment(glob, digits=account), part) is None:
            return False
    return True


class Mode(StrEnum):
    REPORT = "report"  # report the finding, change nothing
    REMEDIATE = "remediate"  # undo the change (revert, detach, delete, strip), record before
    QUARANTINE = "quarantine"  # attach the stack's deny-all policy to the principal
    ALLOW = "allow"  # an intended grant (break-glass, delegated admin): not changed


@dataclass(frozen=True, slots=True)
class GuardConfig:
    common: CommonConfig
    default_mode: Mode
    mode_tag_key: str
    allowed_principals: tuple[str, ...]  # ARN globs
    allowed_policies: tuple[str, ...]  # ARN globs
    allowed_accounts: frozenset[str]  # may be trusted by roles, besides this account
    organization_id: str | None
    own_role_name: str  # the function's role: its calls are its own remediations
    own_role_prefixes: tuple[str, ...]  # the stack's roles: never acted on
    own_role_arns: tuple[str, ...]
    quarantine_policy_arn: str | None

    def allow_listed_principal(self, arn: str) -> bool:
        return any(arn_glob_matches(pattern, arn) for pattern in self.allowed_principals)

    def allow_listed_policy(self, arn: str) -> bool:
        return any(arn_glob_matches(pattern, arn) for pattern in self.allowed_policies)

    def own_role(self, name: str, arn: str) -> bool:
        """The function's role, the execution role it assumes in target accounts
        (ASSUME_ROLE_NAME), OWN_ROLE_ARNS (globs) and OWN_ROLE_PREFIXES: never acted on."""
        return (name in (self.own_role_name, self.common.assume_role_name)
                or any(arn_glob_matches(pattern, arn) for pattern in self.own_role_arns)
                or any(name.startswith(prefix) for prefix in self.own_role_prefixes))

    def own_role_by_prefix_only(self, name: str, arn: str) -> bool:
        """One of the stack's roles by OWN_ROLE_PREFIXES alone: a name anyone can give a role,
        so what it holds is still reported (never changed)."""
        return (any(name.startswith(prefix) for prefix in self.own_role_prefixes)
                and name not in (self.own_role_name, self.common.assume_role_name)
                and not any(arn_glob_matches(pattern, arn) for pattern in self.own_role_arns))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GuardConfig:
        env = Env(environ)
        modes = ", ".join(m.value for m in Mode if m is not Mode.ALLOW)
        mode = env.text("GUARD_MODE", Mode.REPORT.value).lower()
        if mode not in {m.value for m in Mode if m is not Mode.ALLOW}:
            raise ConfigError("GUARD_MODE", mode, modes)
        quarantine = env.optional_text("QUARANTINE_POLICY_ARN")
        if quarantine is not None and not _POLICY_ARN.fullmatch(quarantine):
            raise ConfigError("QUARANTINE_POLICY_ARN", quarantine,
                              "a customer managed policy ARN such as "
                              "arn:aws:iam::123456789012:policy/opskit-quarantine")
        if mode == Mode.QUARANTINE and quarantine is None:
            raise ConfigError("QUARANTINE_POLICY_ARN", None,
                              "the deny-all policy's ARN when GUARD_MODE is quarantine")
        org = env.optional_text("ORGANIZATION_ID")
        if org is not None and not _ORG_ID.fullmatch(org):
            raise ConfigError("ORGANIZATION_ID", org, "an organization id such as o-a1b2c3d4e5")
        return cls(
            common=CommonConfig.from_env(AUTOMATION, environ),
            default_mode=Mode(mode),
            mode_tag_key=env.text("MODE_TAG_KEY", "opskit:iam-guard"),
            allowed_principals=env.items(
                "ALLOWED_PRINCIPALS", item=lambda v: _ARN_GLOB.fullmatch(v) is not None,
                expected="IAM ARNs or globs such as arn:aws:iam::*:role/break-glass-*"),
            allowed_policies=env.items(
                "ALLOWED_POLICIES", item=lambda v: _ARN_GLOB.fullmatch(v) is not None,
                expected="policy ARNs or globs such as arn:aws:iam::*:policy/delegated-*"),
            allowed_accounts=frozenset(env.items(
                "ALLOWED_ACCOUNT_IDS", item=is_account_id, expected="12-digit account ids")),
            organization_id=org,
            own_role_name=env.text("OWN_ROLE_NAME", "opskit-iam-policy-guard"),
            own_role_prefixes=env.items("OWN_ROLE_PREFIXES",
                                        item=lambda v: _PREFIX.fullmatch(v) is not None,
                                        expected="role name prefixes such as opskit-"),
            own_role_arns=env.items("OWN_ROLE_ARNS",
                                    item=lambda v: _ARN_GLOB.fullmatch(v) is not None,
                                    expected="role ARNs"),
            quarantine_policy_arn=quarantine,
        )
