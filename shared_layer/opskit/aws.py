"""AWS access for a whole container's life: service models loaded once, each client made once,
assumed-role credentials kept and refreshed before they expire, per-target fan-out.

A Lambda container serves many invocations; everything here lives as long as it does.

- One data loader per container: every botocore session reads its service models and endpoint
  data through it, so each JSON model is parsed once (the costly part of making a client).
- One boto3 session per (account, region), made on first use; each hands out one client per
  service (`ReusingSession.client`). Clients are thread-safe; making one is not, so it is done
  under a lock (the S3 sweep reads buckets from several threads).
- Another account's credentials come from one AssumeRole, kept as botocore refreshable
  credentials that every region's session of that account shares: botocore assumes the role
  again when they come within 15 minutes of expiring, never on a warm run before.
- `SessionFactory.shared(...)` is the container's factory for one automation; `forget()` drops
  every cache (a new container, for tests).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, Credentials, RefreshableCredentials

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
_ROLE_SESSION_SECONDS = 3600
_ASSUME_ROLE = "opskit-assume-role"

_lock = threading.RLock()


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    """The container's one data loader (it caches every model it has read)."""
    return botocore.loaders.create_loader(os.environ.get("AWS_DATA_PATH"))


class ReusingSession(boto3.Session):
    """A boto3 session that makes each client once and hands the same one out again.

    `client(service)` and `client(service, region_name)` are cached; a call with any other
    argument (a config, explicit keys) makes a new client, as boto3 does."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._clients_lock = threading.Lock()

    if not TYPE_CHECKING:  # mypy keeps boto3's typed overloads of client()

        def client(self, service_name, region_name=None, *args, **kwargs):
            if args or kwargs:
                return super().client(service_name, region_name, *args, **kwargs)
            key = (service_name, region_name)
            with self._clients_lock:
                made = self._clients.get(key)
                if made is None:
                    made = super().client(service_name, region_name=region_name)
                    self._clients[key] = made
                return made


class _Given(CredentialProvider):
    """Hands one session the credentials it was given (an assumed role's, refreshable)."""

    METHOD = _ASSUME_ROLE

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


def new_session(
    region: str,
    *,
    credentials: Credentials | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> ReusingSession:
    """A session whose clients use adaptive retries and sane timeouts, reading service models
    through the container's loader. Without credentials it finds them as boto3 does (on
    Lambda: the function role's)."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    core.set_default_client_config(CLIENT_CONFIG)
    if credentials is not None:
        core.get_component("credential_provider").insert_before("env", _Given(credentials))
    session = ReusingSession(
        botocore_session=core,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
    )
    # boto3 adds its own data folder to the loader's search path for each session: once is
    # enough for the container's shared loader.
    with _lock:
        paths = core.get_component("data_loader").search_paths
        paths[:] = list(dict.fromkeys(paths))
    return session


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


class SessionFactory:
    """Hands out sessions per (account, region), assuming the member role for other accounts.

    Sessions, their clients and each account's assumed-role credentials are kept for the
    factory's life; `shared()` keeps one factory per automation for the container's life, so
    warm invocations make no client and no AssumeRole call again."""

    _shared: ClassVar[dict[tuple[str, str, str], SessionFactory]] = {}

    def __init__(self, home_region: str, role_name: str, session_name: str,
                 base: boto3.Session | None = None, *, home_account: str | None = None) -> None:
        self.home_region = home_region
        self.role_name = role_name
        self.session_name = session_name[:64]
        self._given_base = base is not None
        self.base = base or new_session(home_region)
        self._sessions: dict[tuple[str, str], boto3.Session] = {}
        self._credentials: dict[str, Credentials] = {}
        self._home_account = home_account
        self._lock = threading.RLock()

    @classmethod
    def shared(cls, home_region: str, role_name: str, session_name: str) -> SessionFactory:
        """The container's factory for these settings (made on first use)."""
        key = (home_region, role_name, session_name)
        with _lock:
            factory = cls._shared.get(key)
            if factory is None:
                factory = cls._shared[key] = cls(home_region, role_name, session_name)
            return factory

    def forget_account(self, account_id: str) -> None:
        """Drop an account's credentials and sessions (after a failed target)."""
        with self._lock:
            self._credentials.pop(account_id, None)
            for key in [key for key in self._sessions if key[0] == account_id]:
                del self._sessions[key]

    def _sts(self) -> STSClient:
        return self.base.client("sts", region_name=self.home_region)

    def home_account(self) -> str:
        """The account of the function's own credentials, asked once per factory (so once per
        container): an emulator's Lambda context names a made-up account, the credentials
        never do."""
        with self._lock:
            if self._home_account is None:
                self._home_account = self._sts().get_caller_identity()["Account"]
            return self._home_account

    def session_for(self, account_id: str, region: str) -> boto3.Session:
        home = self.home_account()
        with self._lock:
            key = (account_id, region)
            found = self._sessions.get(key)
            if found is not None:
                return found
            if account_id == home and region == self.home_region:
                session: boto3.Session = self.base
            elif account_id == home:
                session = self._home_session(region)
            else:
                session = new_session(region, credentials=self._assumed(account_id))
            self._sessions[key] = session
            return session

    def _home_session(self, region: str) -> boto3.Session:
        """Another region of the function's own account, with the base session's credentials
        (the function role's, or those of a base session given to the factory)."""
        if not self._given_base:
            return new_session(region)
        frozen = self.base.get_credentials()
        if frozen is None:
            return new_session(region)
        creds = frozen.get_frozen_credentials()
        return new_session(region, access_key_id=creds.access_key,
                           secret_access_key=creds.secret_key, session_token=creds.token)

    def _assumed(self, account_id: str) -> Credentials:
        """The account's credentials: one AssumeRole, then botocore refreshes them shortly
        before they expire (RefreshableCredentials), shared by every region's session."""
        with self._lock:
            cached = self._credentials.get(account_id)
            if cached is not None:
                return cached
            credentials = RefreshableCredentials.create_from_metadata(
                metadata=self._assume(account_id), refresh_using=lambda: self._assume(account_id),
                method=_ASSUME_ROLE)
            self._credentials[account_id] = credentials
            return credentials

    def _assume(self, account_id: str) -> dict[str, str]:
        partition = self.base.get_partition_for_region(self.home_region)
        role_arn = f"arn:{partition}:iam::{account_id}:role/{self.role_name}"
        raw = self._sts().assume_role(RoleArn=role_arn, RoleSessionName=self.session_name,
                                      DurationSeconds=_ROLE_SESSION_SECONDS)["Credentials"]
        expiration: datetime = raw["Expiration"]
        return {"access_key": raw["AccessKeyId"], "secret_key": raw["SecretAccessKey"],
                "token": raw["SessionToken"], "expiry_time": expiration.isoformat()}


def forget() -> None:
    """Drop every container-level cache: the next invocation starts as in a new container."""
    with _lock:
        SessionFactory._shared.clear()
        _shared_loader.cache_clear()


def target_pairs(config: CommonConfig, home_account: str,
                 base: boto3.Session | None = None) -> list[tuple[str, str]]:
    """Every (account, region) to run against: the configured lists, else this account/region.
    `organization` and OU ids expand to their active accounts; `all` to the enabled regions."""
    accounts: list[str] = []
    wanted = config.target_accounts or (home_account,)
    parents = [a for a in wanted if discovery.is_parent_id(a)]
    if discovery.ORGANIZATION in wanted or parents:
        org = base.client("organizations") if base is not None else boto3.client(
            "organizations", config=CLIENT_CONFIG)
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
        ec2 = (base.client("ec2", region_name=config.home_region) if base is not None
               else boto3.client("ec2", region_name=config.home_region, config=CLIENT_CONFIG))
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
            # Sessions and credentials are made afresh next time (a member account's role is
            # assumed again): a revoked session or a replaced role fails one run, not an hour.
            factory.forget_account(account_id)
            failure = TargetFailure(account_id, region, f"{type(exc).__name__}: {exc}")
            failures.append(failure)
            if on_failure is not None:
                on_failure(failure)
    return results, failures
