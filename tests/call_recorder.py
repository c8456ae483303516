"""Which automation made an AWS call: the function package found on the call's stack.

A botocore `before-parameter-build` handler, registered for the whole session, attributes every
call made from inside `functions/<automation>/` (the layer's calls included, as the handler is on
their stack) to that automation; calls made by tests and seeds are not attributed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FUNCTIONS = str(Path(__file__).resolve().parent.parent / "functions")


@dataclass
class Call:
    automation: str
    service: str  # botocore's service name, e.g. ec2, s3control
    operation: str  # the API name, e.g. DescribeInstances
    # A tag write: the IAM action checked and the tag keys it names.
    tags: tuple[str, frozenset[str]] | None = None
    # The resources it names: (ARN, their tags when the call was made).
    resources: tuple[tuple[str, dict[str, str]], ...] = ()
    # Whether AWS (moto) answered with success: a call that failed anyway (a resource that is
    # gone, a refused request) is not judged on the resources it names.
    succeeded: bool = True


def automation_on_stack() -> str | None:
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(FUNCTIONS):
            return Path(filename).relative_to(FUNCTIONS).parts[0]
        frame = frame.f_back  # type: ignore[assignment]
    return None


class CallRecorder:
    """Every attributed call of the session, and those of the current test."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def __call__(self, model: Any = None, params: Any = None, context: Any = None,
                 **_: Any) -> None:
        """A `before-parameter-build` handler: `params` are the caller's own arguments."""
        automation = automation_on_stack()
        if automation is None or model is None or not isinstance(params, dict):
            return
        from tests.iam_roles import resources_named, tag_write

        service = model.service_model.service_name
        region = (context or {}).get("client_region") or ""
        resources = tuple(resources_named(service, region, params, model.name))
        call = Call(automation, service, model.name, tag_write(service, model.name, params),
                    resources)
        if context is not None:
            context["opskit.call"] = call
        self.calls.append(call)

    @staticmethod
    def answered(http_response: Any = None, context: Any = None, **_: Any) -> None:
        """An `after-call` handler: marks the recorded call failed on an error answer."""
        call = (context or {}).get("opskit.call")
        if call is not None and http_response is not None:
            call.succeeded = http_response.status_code < 300
