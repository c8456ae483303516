"""AWS access: sessions with adaptive retries, cached role sessions, and per-target fan-out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import botocore.session
from botocore.config import Config

from opskit import discovery
from opskit.config import CommonConfig

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "total_max_attempts": 10},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="opskit/0.1",
)
# Refresh assumed-role credentials this long before they expire.
_CREDENTIAL_MARGIN_SECONDS = 300
_ROLE_SESSION_SECONDS = 3600


def new_session(
    region: str,
    *,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> boto3.Session:
    """A boto3 session whose every client uses adaptive retries and sane timeouts."""
    core = botocore.session.get_session()
    core.set_default_client_config(CLIENT_CONFIG)
    return boto3.Session(
        botocore_session=core,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
    )


@dataclass(frozen=True, slots=True)
class Target:
    """One (account, region) an automation runs against, with a session for it."""

    account_id: str
    region: str
    session: boto3.Session

    @property
    def partition(self) -> str:
        return self.session.get_partition_for_region(self.region)

    def __str__(self) -> str:
        return f"{self.account_id}/{self.region}"


@dataclass(frozen=True, slots=True)
class _Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float


class SessionFactory:
    """Hands out sessions per (account, region), assuming the member role for other accounts.

    Assumed-role credentials are cached per account (across warm invocations) until shortly
    before they expire, so a run over many regions costs one AssumeRole per account.
    """

    def __init__(self, home_region: str, role_name: str, session_name: str,
                 base: boto3.Session | None = None) -> None:
        self.home_region = home_region
        self.role_name = role_name
        self.session_name = session_name[:64]
        self.base = base or new_session(home_region)
        self._credentials: dict[str, _Credentials] = {}
        self._home_account: str | None = None
        self._lock = threading.Lock()

    def _sts(self) -> STSClient:
        return self.base.client("sts", region_name=self.home_region)

    def home_account(self) -> str:
        if self._home_account is None:
            self._home_account = self._sts().get_caller_identity()["Account"]
        return self._home_account

    def session_for(self, account_id: str, region: str) -> boto3.Session:
        if account_id == self.home_account():
            return new_session(region, **self._base_credentials())
        creds = self._assumed(account_id)
        return new_session(region, access_key_id=creds.access_key_id,
                           secret_access_key=creds.secret_access_key,
                           session_token=creds.session_token)

    def _base_credentials(self) -> dict[str, str | None]:
        frozen = self.base.get_credentials()
        if frozen is None:
            return {}
        creds = frozen.get_frozen_credentials()
        return {"access_key_id": creds.access_key, "secret_access_key": creds.secret_key,
                "session_token": creds.token}

    def _assumed(self, account_id: str) -> _Credentials:
        with self._lock:
            cached = self._credentials.get(account_id)
            if cached is not None and cached.expires_at - time.time() > _CREDENTIAL_MARGIN_SECONDS:
                return cached
            partition = self.base.get_partition_for_region(self.home_region)
            role_arn = f"arn:{partition}:iam::{account_id}:role/{self.role_name}"
            response = self._sts().assume_role(RoleArn=role_arn, RoleSessionName=self.session_name,
                                               DurationSeconds=_ROLE_SESSION_SECONDS)
            raw = response["Credentials"]
            creds = _Credentials(raw["AccessKeyId"], raw["SecretAccessKey"], raw["SessionToken"],
                                 raw["Expiration"].timestamp())
            self._credentials[account_id] = creds
            return creds


def target_pairs(config: CommonConfig, home_account: str,
                 base: boto3.Session | None = None) -> list[tuple[str, str]]:
    """Every (account, region) to run against: the configured lists, else this account/region.
    `organization` and OU ids expand to their active accounts; `all` to the enabled regions."""
    accounts: list[str] = []
    wanted = config.target_accounts or (home_account,)
    parents = [a for a in wanted if discovery.is_parent_id(a)]
    if discovery.ORGANIZATION in wanted or parents:
        org = (base or boto3.Session()).client("organizations", config=CLIENT_CONFIG)
        if discovery.ORGANIZATION in wanted:
            accounts.extend(discovery.organization_accounts(org))
        if parents:
            accounts.extend(discovery.accounts_under(org, parents))
    accounts.extend(a for a in wanted if a != discovery.ORGANIZATION and a not in parents)
    regions = target_regions(config, base)
    return [(account, region) for account in dict.fromkeys(accounts) for region in regions]


def target_regions(config: CommonConfig, base: boto3.Session | None = None) -> list[str]:
    """The configured regions, `all` meaning the regions enabled in this account."""
    regions = list(config.target_regions or (config.home_region,))
    if discovery.ALL_REGIONS in regions:
        ec2 = (base or boto3.Session()).client("ec2", region_name=config.home_region,
                                               config=CLIENT_CONFIG)
        regions = discovery.enabled_regions(ec2)
    return regions


@dataclass(frozen=True, slots=True)
class TargetFailure:
    account_id: str
    region: str
    error: str


def for_each_target[T](
    pairs: list[tuple[str, str]],
    factory: SessionFactory,
    work: Callable[[Target], T],
    on_failure: Callable[[TargetFailure], None] | None = None,
    out_of_time: Callable[[], bool] | None = None,
) -> tuple[list[tuple[Target, T]], list[TargetFailure]]:
    """Run `work` per target; one target's failure (even AssumeRole) never stops the others.
    Near the deadline, targets not started yet are reported as failures, not attempted."""
    results: list[tuple[Target, T]] = []
    failures: list[TargetFailure] = []
    for account_id, region in pairs:
        if out_of_time is not None and out_of_time():
            failure = TargetFailure(account_id, region, "not started: out of time for this run")
            failures.append(failure)
            if on_failure is not None:
                on_failure(failure)
            continue
        try:
            target = Target(account_id, region, factory.session_for(account_id, region))
            results.append((target, work(target)))
        except Exception as exc:  # isolation is the point: report, go on
            failure = TargetFailure(account_id, region, f"{type(exc).__name__}: {exc}")
            failures.append(failure)
            if on_failure is not None:
                on_failure(failure)
    return results, failures
