"""The read-only guard of `opskit plan`: a botocore `before-call` hook that refuses, before any
request is sent, every operation that is not a read.

The rule is an allow-list: an operation is a read when its name starts with one of READ_PREFIXES
followed by a capital letter (`DescribeInstances`, `ListBuckets`, `GetBucketPolicy`,
`HeadObject`, `LookupEvents`, `BatchGetItem`), or when it is one of READ_OPERATIONS (reads or
sign-ins named otherwise). Anything else, known or not, is refused: a new API is a write until
someone lists it here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch
from urllib.parse import urlsplit

import botocore.handlers

READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Search", "BatchGet",
                 "BatchDescribe")
_READ_NAME = re.compile(rf"^(?:{'|'.join(READ_PREFIXES)})[A-Z0-9]")
# (service, operation): reads that do not say so in their name, and the sign-ins a plan needs.
READ_OPERATIONS = frozenset({
    ("sts", "AssumeRole"),  # a member account's session (TargetAccounts)
    # The sign-ins botocore's credential providers make for a profile, from the same session.
    ("sts", "AssumeRoleWithWebIdentity"),  # a web-identity profile (CI, EKS)
    ("sso-oidc", "CreateToken"),  # an SSO profile's access token, refreshed
    ("iam", "GenerateCredentialReport"),  # makes the report that GetCredentialReport reads
    ("dynamodb", "Query"),
    ("dynamodb", "Scan"),
    ("logs", "FilterLogEvents"),
})


class WriteRefused(RuntimeError):  # noqa: N818 - the guard's decision, as its name says
    """A call the guard refused; nothing was sent. Not a botocore error on purpose: an
    automation's error handling must not take it for an AWS answer and carry on."""

    def __init__(self, service: str, operation: str) -> None:
        self.service = service
        self.operation = operation
        super().__init__(f"opskit refused {service}.{operation}: a dry run makes no change "
                         "(only Describe/List/Get/Head/Lookup/Search/BatchGet calls are sent)")


# Named like reads, documented to create or change something: refused whatever their name says.
NOT_READS = frozenset({
    ("iot", "DescribeEndpoint"),  # returns or creates the account's endpoint
    ("redshift", "GetClusterCredentials"),  # AutoCreate makes the database user
    ("redshift", "GetClusterCredentialsWithIAM"),
    ("cognito-identity", "GetId"),  # creates an identity in the pool
    ("ssm", "GetDeployablePatchSnapshotForInstance"),  # creates the snapshot it returns
    ("lightsail", "GetInstanceAccessDetails"),  # creates a temporary key pair
})


def is_read(service: str, operation: str) -> bool:
    """Whether the guard lets `service`.`operation` through."""
    if (service, operation) in NOT_READS:
        return False
    return (service, operation) in READ_OPERATIONS or _READ_NAME.match(operation) is not None


Observer = Callable[[str, str], None]


class ReadOnlyGuard:
    """The `before-call` handler: counts every call (for progress), refuses writes."""

    def __init__(self, observer: Observer | None = None) -> None:
        self.observer = observer
        self.calls = 0
        self.refused: list[tuple[str, str]] = []

    def __call__(self, model: Any = None, **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        self.calls += 1
        if self.observer is not None:
            self.observer(service, operation)
        if not is_read(service, operation):
            self.refused.append((service, operation))
            raise WriteRefused(service, operation)


def _refuse_http(_session: object, method: str, url: str, *_: Any, **__: Any) -> Any:
    """`requests` outside AWS (a webhook post): refused before anything is sent."""
    host = urlsplit(str(url)).hostname or str(url)
    raise WriteRefused("https", f"{str(method).upper()} {host}")


def _refuse_webhook(_session: object, url: str, *_: Any, **__: Any) -> Any:
    """The notifier's own webhook transport (urllib3): refused before anything is sent."""
    return _refuse_http(_session, "POST", url)


@contextmanager
def read_only(observer: Observer | None = None) -> Iterator[ReadOnlyGuard]:
    """Every botocore session created inside refuses writes (sessions made before are not
    guarded: the caller starts from a new container, opskit.aws.forget()), and no request
    leaves through `requests` or the notifier's webhook session."""
    guard = ReadOnlyGuard(observer)
    entry = ("before-call.*.*", guard)
    botocore.handlers.BUILTIN_HANDLERS.append(entry)
    try:
        with (patch("requests.Session.request", _refuse_http),
              patch("slack_notifier.delivery.WebhookSession.post", _refuse_webhook)):
            yield guard
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)
