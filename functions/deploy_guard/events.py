"""The two events the deployment guard answers: a CodeDeploy lifecycle hook, a CodePipeline job.

The handler kit has no trigger for them (opskit.handler.Trigger), so they are read here. A
malformed event is refused with the field named; when the hook's or the job's ids can still be
read, the refusal carries them, so the handler answers Failed instead of leaving the hook or the
job waiting for its timeout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opskit.events import EventError, is_identifier, require_object

JOB_KEY = "CodePipeline.job"
_DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{9}$")
# CodeDeploy's execution ids are opaque base64 text; CodePipeline's job ids are UUIDs.
_EXECUTION_ID = re.compile(r"^[A-Za-z0-9+/=_-]{1,2048}$")
_JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_USER_PARAMETERS_CHARS = 1000  # CodePipeline's own limit for UserParameters
MAX_TOKEN_CHARS = 2048  # CodePipeline's limit for a continuation token


@dataclass(frozen=True, slots=True)
class HookRequest:
    """A CodeDeploy lifecycle hook (BeforeAllowTraffic, AfterAllowTraffic, ECS
    AfterAllowTestTraffic...): the event names only the deployment and the hook's execution."""

    deployment_id: str
    execution_id: str


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A CodePipeline Lambda invoke action's job."""

    job_id: str
    user_parameters: str
    continuation_token: str | None = None


Request = HookRequest | JobRequest


class MalformedEventError(EventError):
    """The event is not a hook or a job as AWS sends them. `subject` is what can still be
    answered (the ids were readable), or None."""

    def __init__(self, field: str, value: object, expected: str,
                 subject: Request | None = None) -> None:
        super().__init__(field, value, expected)
        self.subject = subject


def parse_request(event: object) -> Request:
    """The hook or the job the event is; MalformedEventError otherwise."""
    try:
        body = require_object(event)
    except EventError as error:
        raise MalformedEventError(error.field, error.value, str(error).split("expected ", 1)[-1]
                             ) from None
    if JOB_KEY in body:
        return _parse_job(body[JOB_KEY])
    if "DeploymentId" in body or "LifecycleEventHookExecutionId" in body:
        return _parse_hook(body)
    raise MalformedEventError("event", sorted(body)[:5],
                         "a CodeDeploy hook {DeploymentId, LifecycleEventHookExecutionId} or a "
                         "CodePipeline job {\"CodePipeline.job\": ...}")


def _parse_hook(body: dict[str, Any]) -> HookRequest:
    deployment, execution = body.get("DeploymentId"), body.get("LifecycleEventHookExecutionId")
    # Readable: safe to send back to CodeDeploy, even when not what CodeDeploy sends.
    readable = (HookRequest(str(deployment), str(execution))
                if is_identifier(deployment) and is_identifier(execution) else None)
    if not isinstance(deployment, str) or not _DEPLOYMENT_ID.fullmatch(deployment):
        raise MalformedEventError("DeploymentId", deployment,
                             "a CodeDeploy deployment id such as d-4X7Y2Z9QA", readable)
    if not isinstance(execution, str) or not _EXECUTION_ID.fullmatch(execution):
        raise MalformedEventError("LifecycleEventHookExecutionId", execution,
                             "the hook execution id CodeDeploy sends (base64 text)", readable)
    return HookRequest(deployment, execution)


def _parse_job(job: object) -> JobRequest:
    where = JOB_KEY
    if not isinstance(job, dict):
        raise MalformedEventError(where, type(job).__name__, "an object with id and data")
    job_id = job.get("id")
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        readable = JobRequest(str(job_id), "") if is_identifier(job_id) else None
        raise MalformedEventError(f"{where}.id", job_id, "a CodePipeline job id (a UUID)", readable)
    failed = JobRequest(job_id, "")  # what is answered when the rest is malformed
    data = job.get("data")
    if not isinstance(data, dict):
        raise MalformedEventError(f"{where}.data", type(data).__name__, "an object", failed)
    action = data.get("actionConfiguration")
    if not isinstance(action, dict) or not isinstance(action.get("configuration"), dict):
        raise MalformedEventError(f"{where}.data.actionConfiguration.configuration",
                             None if not isinstance(action, dict) else action.get("configuration"),
                             "an object holding UserParameters", failed)
    parameters = action["configuration"].get("UserParameters")
    field = f"{where}.data.actionConfiguration.configuration.UserParameters"
    if not isinstance(parameters, str) or not parameters.strip():
        raise MalformedEventError(field, parameters, "the checks as JSON, or the name of the SSM "
                             "parameter holding them (the action's user parameters)", failed)
    if len(parameters) > MAX_USER_PARAMETERS_CHARS:
        raise MalformedEventError(field, f"{len(parameters)} characters",
                             f"at most {MAX_USER_PARAMETERS_CHARS} characters", failed)
    token = data.get("continuationToken")
    if token is not None and (not isinstance(token, str) or not token
                              or len(token) > MAX_TOKEN_CHARS):
        raise MalformedEventError(f"{where}.data.continuationToken", token,
                             "the continuation token this function gave", failed)
    return JobRequest(job_id, parameters.strip(), token)
