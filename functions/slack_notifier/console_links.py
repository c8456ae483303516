"""Deep links into the AWS console, in the right region and partition.

Every function returns None when the region is not a valid region name or has no public
console (the ISO partitions): a link is only ever built on an AWS console host. Every id or
name put in a path, query or fragment is percent-encoded."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from opskit.config import is_account_id, is_region

HEALTH_DASHBOARD = "https://health.aws.amazon.com/health/home#/account/dashboard/open-issues"
GLOBAL_CONSOLE = "https://console.aws.amazon.com"
_CONSOLE_HOSTS = ("console.aws.amazon.com", "console.amazonaws.cn",
                  "console.amazonaws-us-gov.com")


def valid_region(region: object) -> str | None:
    """The region when it is a region name (opskit.config: ASCII only), else None."""
    if isinstance(region, str) and is_region(region):
        return region
    return None


def valid_account(account: object) -> str | None:
    if isinstance(account, str) and is_account_id(account):
        return account
    return None


def partition_of(region: str) -> str | None:
    """The partition of a (valid) region; None for the ISO partitions (no public console)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if "-iso" in region:
        return None
    return "aws"


def _console(region: str | None) -> str | None:
    region = valid_region(region)
    partition = partition_of(region) if region else None
    if region is None or partition is None:
        return None
    if partition == "aws-cn":
        return "https://console.amazonaws.cn"
    if partition == "aws-us-gov":
        return "https://console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def _q(value: str) -> str:
    return quote(value, safe="")


# What a publisher-given URL may point to: the path must start with one of these.
COST_ANOMALY_PATHS = ("/cost-management/",)
PIPELINE_ACTION_PATHS = ("/codesuite/", "/codebuild/", "/codedeploy/", "/cloudformation/",
                         "/lambda/", "/ecs/", "/states/")


def is_console_url(url: object, path_prefixes: tuple[str, ...]) -> bool:
    """True for an https URL on an AWS console host whose path starts with one of
    `path_prefixes` (a publisher-given URL is linked only then). Refused: a user name,
    password or port, an `@` anywhere, `.` or `..` segments, empty segments, and
    percent-encoded dots, slashes or backslashes in the path."""
    if not isinstance(url, str) or not url.isascii() or any(c in url for c in "\\ \t\r\n<>|@"):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return False
    if (parts.scheme != "https" or parts.username or parts.password or port is not None
            or parts.netloc != host):
        return False
    path = parts.path
    segments = path.split("/")[1:]
    if (any(s in ("", ".", "..") for s in segments[:-1]) or segments[-1:] in ([".."], ["."])
            or any(e in path.lower() for e in ("%2e", "%2f", "%5c"))):
        return False
    if not any(path.startswith(prefix) for prefix in path_prefixes):
        return False
    if host in _CONSOLE_HOSTS:
        return True
    prefix, _, rest = host.partition(".")
    return rest == "console.aws.amazon.com" and valid_region(prefix) is not None


def alarm(region: str | None, name: str) -> str | None:
    base = _console(region)
    return base and f"{base}/cloudwatch/home?region={region}#alarmsV2:alarm/{_q(name)}"


def pipeline_execution(region: str | None, pipeline: str, execution_id: str) -> str | None:
    base = _console(region)
    return base and (f"{base}/codesuite/codepipeline/pipelines/{_q(pipeline)}"
                     f"/executions/{_q(execution_id)}/timeline?region={region}")


def codebuild_build(region: str | None, account: str | None, project: str,
                    build_id: str) -> str | None:
    base = _console(region)
    account = valid_account(account)
    return base and account and (f"{base}/codesuite/codebuild/{account}/projects/"
                                 f"{_q(project)}/build/{_q(build_id)}/?region={region}")


def codedeploy_deployment(region: str | None, deployment_id: str) -> str | None:
    base = _console(region)
    return base and (f"{base}/codesuite/codedeploy/deployments/"
                     f"{_q(deployment_id)}?region={region}")


def ecs_task(region: str | None, cluster: str, task_id: str) -> str | None:
    base = _console(region)
    return base and (f"{base}/ecs/v2/clusters/{_q(cluster)}/tasks/"
                     f"{_q(task_id)}?region={region}")


def ecs_service(region: str | None, cluster: str, service: str,
                tab: str = "health") -> str | None:
    base = _console(region)
    return base and (f"{base}/ecs/v2/clusters/{_q(cluster)}/services/{_q(service)}/"
                     f"{_q(tab)}?region={region}")


def guardduty_finding(region: str | None, finding_id: str) -> str | None:
    base = _console(region)
    return base and (f"{base}/guardduty/home?region={region}"
                     f"#/findings?macros=current&fId={_q(finding_id)}")


def _securityhub_filter(field: str, value: str) -> str:
    # The console's filter syntax, itself URL-encoded inside the `search` parameter.
    return f"{field}%3D%255Coperator%255C%253AEQUALS%255C%253A{_q(_q(value))}"


def securityhub_findings(region: str | None, finding_ids: list[str]) -> str | None:
    """The findings page filtered on these finding ids (several ids are ORed)."""
    base = _console(region)
    if not base or not finding_ids:
        return None
    search = "%26".join(_securityhub_filter("Id", finding_id) for finding_id in finding_ids)
    url = f"{base}/securityhub/home?region={region}#/findings?search={search}"
    if len(url) > 2900:  # Slack refuses button URLs past 3,000 characters
        url = f"{base}/securityhub/home?region={region}#/findings"
    return url


def health_dashboard() -> str:
    return HEALTH_DASHBOARD


def ec2_instance(region: str | None, instance_id: str) -> str | None:
    base = _console(region)
    return base and (f"{base}/ec2/home?region={region}"
                     f"#InstanceDetails:instanceId={_q(instance_id)}")


def backup_job(region: str | None, kind: str, job_id: str) -> str | None:
    """kind: backup, copy or restore."""
    base = _console(region)
    return base and f"{base}/backup/home?region={region}#/jobs/{_q(kind)}/details/{_q(job_id)}"


def budgets() -> str:
    return f"{GLOBAL_CONSOLE}/costmanagement/home#/budgets"


def cost_anomaly(monitor_id: str, anomaly_id: str) -> str:
    return (f"{GLOBAL_CONSOLE}/cost-management/home#/anomaly-detection/monitors/"
            f"{_q(monitor_id)}/anomalies/{_q(anomaly_id)}")


def cost_anomalies() -> str:
    return f"{GLOBAL_CONSOLE}/cost-management/home#/anomaly-detection/overview"


def _logs_path(part: str) -> str:
    # The CloudWatch console double-encodes path parts and writes '%' as '$'.
    return quote(quote(part, safe=""), safe="").replace("%", "$")


def log_stream(region: str | None, group: str, stream: str | None = None) -> str | None:
    base = _console(region)
    if not base:
        return None
    url = (f"{base}/cloudwatch/home?region={region}"
           f"#logsV2:log-groups/log-group/{_logs_path(group)}")
    return f"{url}/log-events/{_logs_path(stream)}" if stream else url
