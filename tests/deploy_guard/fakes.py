"""Stand-ins for the deployment guard's tests: a clock, DNS, and the CodeDeploy/CodePipeline
calls moto does not implement (answered by a botocore before-call hook that records them)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse

from opskit import aws

START = 1_798_790_400.0  # 2027-01-01T00:00:00Z: every test's wall clock starts here
APPLICATION, GROUP = "orders-api", "production"
PREFIX = "/opskit/deploy-guard/"
PARAMETER = f"{PREFIX}{APPLICATION}/{GROUP}"


@dataclass
class FakeClock:
    """Wall and monotonic time that move only when something sleeps or a response takes time."""

    now: float = START
    mono: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.mono += seconds


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@dataclass
class Answers:
    """What the function sent to CodeDeploy and CodePipeline, answered with success (or with
    the error code in `fail_with`)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deployments: dict[str, tuple[str, str]] = field(default_factory=dict)
    fail_with: str | None = None
    # The continuation token each job holds (the last PutJobSuccessResult's), for GetJobDetails.
    tokens: dict[str, str] = field(default_factory=dict)

    OPERATIONS = ("PutLifecycleEventHookExecutionStatus", "PutJobSuccessResult",
                  "PutJobFailureResult", "GetDeployment", "GetJobDetails")

    def __call__(self, model: Any = None, params: Any = None, **_: Any) -> Any:
        if model is None or model.name not in self.OPERATIONS:
            return None
        body = params.get("body") if isinstance(params, dict) else None
        sent = json.loads(body) if body else {}
        self.calls.append((model.name, sent))
        if model.name == "GetDeployment":
            found = self.deployments.get(sent.get("deploymentId", ""))
            if found is None:
                return self._error("DeploymentDoesNotExistException")
            info = {"deploymentId": sent["deploymentId"], "applicationName": found[0],
                    "deploymentGroupName": found[1], "status": "InProgress"}
            return self._ok({"deploymentInfo": info})
        if model.name == "GetJobDetails":
            data: dict[str, Any] = {}
            if sent.get("jobId") in self.tokens:
                data["continuationToken"] = self.tokens[sent["jobId"]]
            return self._ok({"jobDetails": {"id": sent.get("jobId"), "data": data,
                                            "accountId": "123456789012"}})
        if self.fail_with is not None:
            return self._error(self.fail_with)
        if model.name == "PutJobSuccessResult":
            if "continuationToken" in sent:
                self.tokens[sent["jobId"]] = sent["continuationToken"]
            else:
                self.tokens.pop(sent.get("jobId", ""), None)
        return self._ok({})

    @staticmethod
    def _ok(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        response = AWSResponse("https://example.invalid/", 200, {}, _Raw(b"{}"))
        return response, {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}

    @staticmethod
    def _error(code: str) -> tuple[AWSResponse, dict[str, Any]]:
        response = AWSResponse("https://example.invalid/", 400, {}, _Raw(b"{}"))
        return response, {"Error": {"Code": code, "Message": "injected"},
                          "ResponseMetadata": {"HTTPStatusCode": 400}}

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [sent for name, sent in self.calls if name == operation]

    @property
    def hook_statuses(self) -> list[str]:
        return [sent["status"] for sent in self.of("PutLifecycleEventHookExecutionStatus")]


@contextmanager
def answering(answers: Answers | None = None) -> Iterator[Answers]:
    """Answers the calls moto lacks, for every client made while active."""
    answers = answers or Answers()
    entry = ("before-call.*.*", answers)
    botocore.handlers.BUILTIN_HANDLERS.insert(0, entry)
    aws.forget()  # clients live as long as a container: the next ones carry the hook
    try:
        yield answers
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)
        aws.forget()


class FakeDns:
    """socket.getaddrinfo for the names a test declares; any other name does not resolve."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.asked: list[str] = []

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        self.asked.append(host)
        if host in self.names:
            addresses = self.names[host]
        else:
            try:  # an address literal resolves to itself, as the real resolver does
                import ipaddress

                addresses = [str(ipaddress.ip_address(host.strip("[]")))]
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in addresses]


def put_checks(checks: dict[str, Any] | str, name: str = PARAMETER) -> None:
    text = checks if isinstance(checks, str) else json.dumps(checks)
    boto3.client("ssm", region_name="eu-west-1").put_parameter(
        Name=name, Value=text, Type="String", Overwrite=True)
