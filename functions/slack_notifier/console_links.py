"""Deep links into the AWS console, in the right region."""

from __future__ import annotations

from urllib.parse import quote


def _console(region: str) -> str:
    return f"https://{region}.console.aws.amazon.com"


def alarm(region: str, name: str) -> str:
    return (f"{_console(region)}/cloudwatch/home?region={region}"
            f"#alarmsV2:alarm/{quote(name, safe='')}")


def pipeline_execution(region: str, pipeline: str, execution_id: str) -> str:
    return (f"{_console(region)}/codesuite/codepipeline/pipelines/{quote(pipeline, safe='')}"
            f"/executions/{quote(execution_id, safe='')}/timeline?region={region}")


def codebuild_build(region: str, account: str, project: str, build_id: str) -> str:
    return (f"{_console(region)}/codesuite/codebuild/{account}/projects/"
            f"{quote(project, safe='')}/build/{quote(build_id, safe='')}/?region={region}")


def codedeploy_deployment(region: str, deployment_id: str) -> str:
    return (f"{_console(region)}/codesuite/codedeploy/deployments/"
            f"{quote(deployment_id, safe='')}?region={region}")


def ecs_task(region: str, cluster: str, task_id: str) -> str:
    return (f"{_console(region)}/ecs/v2/clusters/{quote(cluster, safe='')}/tasks/"
            f"{quote(task_id, safe='')}?region={region}")


def guardduty_finding(region: str, finding_id: str) -> str:
    return (f"{_console(region)}/guardduty/home?region={region}"
            f"#/findings?macros=current&fId={quote(finding_id, safe='')}")


def health_dashboard() -> str:
    return "https://health.aws.amazon.com/health/home#/account/dashboard/open-issues"


def ec2_instance(region: str, instance_id: str) -> str:
    return f"{_console(region)}/ec2/home?region={region}#InstanceDetails:instanceId={instance_id}"


def _logs_path(part: str) -> str:
    # The CloudWatch console double-encodes path parts and writes '%' as '$'.
    return quote(quote(part, safe=""), safe="").replace("%", "$")


def log_stream(region: str, group: str, stream: str | None = None) -> str:
    url = (f"{_console(region)}/cloudwatch/home?region={region}"
           f"#logsV2:log-groups/log-group/{_logs_path(group)}")
    return f"{url}/log-events/{_logs_path(stream)}" if stream else url
