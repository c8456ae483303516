"""The answers: a CodeDeploy hook's status, a CodePipeline job's result.

Live, the verdict is the answer and an error answers Failed. In dry run the answer is always a
success (the verdict is reported, never enforced), so trying the guard never blocks a
deployment (docs/deploy_guard.md, Dry run).
"""

from __future__ import annotations

from typing import Any, Protocol

from deploy_guard.events import HookRequest, JobRequest, Request

SUMMARY_MAX_CHARS = 2048  # PutJobSuccessResult executionDetails.summary
MESSAGE_MAX_CHARS = 5000  # PutJobFailureResult failureDetails.message
# Already answered (a retried invocation): the answer stands, nothing to do.
ALREADY_ANSWERED = ("LifecycleEventAlreadyCompletedException", "InvalidJobStateException")


class CodeDeployClient(Protocol):
    def put_lifecycle_event_hook_execution_status(self, **kwargs: Any) -> Any: ...
    def get_deployment(self, **kwargs: Any) -> Any: ...


class CodePipelineClient(Protocol):
    def put_job_success_result(self, **kwargs: Any) -> Any: ...
    def put_job_failure_result(self, **kwargs: Any) -> Any: ...
    def get_job_details(self, **kwargs: Any) -> Any: ...


def answer_hook(codedeploy: CodeDeployClient, hook: HookRequest, succeeded: bool) -> str:
    status = "Succeeded" if succeeded else "Failed"
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=hook.deployment_id, lifecycleEventHookExecutionId=hook.execution_id,
        status=status)
    return status


def answer_job(codepipeline: CodePipelineClient, job: JobRequest, succeeded: bool,
               message: str, *, continuation_token: str | None = None) -> str:
    """Success (with a token: the bake goes on, CodePipeline invokes again) or failure."""
    if succeeded:
        params: dict[str, Any] = {"jobId": job.job_id,
                                  "executionDetails": {"summary": message[:SUMMARY_MAX_CHARS]}}
        if continuation_token is not None:
            params["continuationToken"] = continuation_token
        codepipeline.put_job_success_result(**params)
        return "InProgress" if continuation_token is not None else "Succeeded"
    codepipeline.put_job_failure_result(
        jobId=job.job_id,
        failureDetails={"type": "JobFailed", "message": message[:MESSAGE_MAX_CHARS]})
    return "Failed"


def answer(codedeploy: CodeDeployClient, codepipeline: CodePipelineClient, request: Request,
           succeeded: bool, message: str, *, continuation_token: str | None = None) -> str:
    """Answer the hook or the job; returns the status sent."""
    if isinstance(request, HookRequest):
        return answer_hook(codedeploy, request, succeeded)
    return answer_job(codepipeline, request, succeeded, message,
                      continuation_token=continuation_token)
