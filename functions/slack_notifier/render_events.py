"""EventBridge events of the services the notifier knows, and CodeStar notifications (the same
events, delivered by notification rules to SNS with `detailType` and `additionalAttributes`).

Each renderer receives an `Event`: the event, its `detail`, and the region and account already
checked. `region` is the event's own region when valid (links are built only from it);
`shown_region` falls back to the incoming message's region when that one is valid."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opskit.observability import logger
from slack_notifier import console_links as links
from slack_notifier.console_links import valid_account
from slack_notifier.notice import Notice, Severity
from slack_notifier.render_alarms import render_alarm_event
from slack_notifier.render_backup import backup_job
from slack_notifier.render_common import (
    Incoming,
    JsonObject,
    joined,
    link,
    number,
    obj,
    objects,
    parse_arn,
    region_or,
    text,
)
from slack_notifier.render_cost import cost_anomaly_event
from slack_notifier.render_security import securityhub_findings


@dataclass(frozen=True, slots=True)
class Event:
    event: JsonObject
    detail: JsonObject
    incoming: Incoming
    region: str | None  # the event's region, when valid: the only one links are built from
    account: str | None  # the event's account, when a 12-digit id

    @property
    def shown_region(self) -> str | None:
        return self.region or region_or(self.incoming.region)

    def notice(self, **kwargs: Any) -> Notice:
        return Notice(account=self.account, region=self.shown_region, **kwargs)


# ---------------------------------------------------------------- CodePipeline
PIPELINE_SEVERITY: dict[str, Severity] = {"FAILED": "critical", "SUCCEEDED": "ok",
                                          "STOPPED": "warning", "SUPERSEDED": "info"}
STAGE_SEVERITY: dict[str, Severity] = {"FAILED": "critical", "STOPPED": "warning",
                                       "CANCELED": "warning", "SUCCEEDED": "ok"}


def _pipeline(ev: Event) -> Notice:
    detail = ev.detail
    state = text(detail.get("state"))
    pipeline, execution = text(detail.get("pipeline")), text(detail.get("execution-id"))
    return ev.notice(
        source="aws.codepipeline", severity=PIPELINE_SEVERITY.get(state, "info"),
        title=joined("Pipeline", pipeline, state),
        fields=(("Pipeline", pipeline), ("Execution", execution), ("State", state)),
        link=link("Open execution", links.pipeline_execution(ev.region, pipeline, execution)))


def _pipeline_step(ev: Event) -> Notice:
    """Stage and action execution state changes."""
    detail = ev.detail
    state = text(detail.get("state"))
    pipeline, execution = text(detail.get("pipeline")), text(detail.get("execution-id"))
    stage, action = text(detail.get("stage")), text(detail.get("action"))
    kind = obj(detail.get("type"))
    result = obj(detail.get("execution-result"))
    where = f"action {joined(stage, action, sep='/')}" if action else joined("stage", stage)
    fields = [("Pipeline", pipeline), ("Stage", stage)]
    if action:
        fields.append(("Action", action))
        provider = joined(kind.get("owner"), kind.get("provider"))
        if provider:
            category = text(kind.get("category"))
            fields.append(("Provider", f"{provider} ({category})" if category else provider))
    fields += [("Execution", execution), ("State", state)]
    if text(result.get("error-code")):
        fields.append(("Error code", text(result["error-code"])))
    external = result.get("external-execution-url")
    # publisher-controlled: shown only on a console host, under a service path
    if links.is_console_url(external, links.PIPELINE_ACTION_PATHS):
        fields.append(("Details", text(external)))
    return ev.notice(
        source="aws.codepipeline", severity=STAGE_SEVERITY.get(state, "info"),
        title=joined("Pipeline", pipeline, where, state),
        text=text(result.get("external-execution-summary")), fields=tuple(fields),
        link=link("Open execution", links.pipeline_execution(ev.region, pipeline, execution)))


# ---------------------------------------------------------------- CodeBuild, CodeDeploy
def _codebuild(ev: Event) -> Notice:
    detail = ev.detail
    status = text(detail.get("build-status"))
    severity: Severity = ("critical" if status in ("FAILED", "FAULT", "TIMED_OUT")
                          else "ok" if status == "SUCCEEDED" else "info")
    project = text(detail.get("project-name"))
    build_id = text(detail.get("build-id")).split("/")[-1]
    phase = text(detail.get("current-phase"))
    fields = [("Project", project), ("Status", status)]
    context = text(detail.get("current-phase-context")).strip()
    if phase:
        # AWS sends the literal "[: ]" when there is no context
        empty = context.replace(" ", "") in ("", "[:]", "[]")
        fields.append(("Phase", phase if empty else f"{phase} ({context})"))
    return ev.notice(
        source="aws.codebuild", severity=severity, title=joined("Build", project, status),
        fields=tuple(fields),
        link=link("Open build", links.codebuild_build(ev.region, ev.account, project,
                                                      build_id)))


def _codedeploy(ev: Event) -> Notice:
    detail = ev.detail
    state = text(detail.get("state"))
    severity: Severity = ("critical" if state == "FAILURE" else "ok" if state == "SUCCESS"
                          else "info")
    deployment = text(detail.get("deploymentId"))
    return ev.notice(
        source="aws.codedeploy", severity=severity,
        title=joined("Deployment", joined(detail.get("application"),
                                          detail.get("deploymentGroup"), sep="/"), state),
        fields=(("Application", text(detail.get("application"))),
                ("Deployment group", text(detail.get("deploymentGroup"))),
                ("Deployment", deployment), ("State", state)),
        link=link("Open deployment", links.codedeploy_deployment(ev.region, deployment)))


# ---------------------------------------------------------------- ECS
def _ecs_task(ev: Event) -> Notice:
    detail = ev.detail
    containers = objects(detail.get("containers"))
    exited = [(text(c.get("name")) or "?", number(c.get("exitCode"))) for c in containers]
    exited_codes = [(name, code) for name, code in exited if code is not None]
    failed = [code for _, code in exited_codes if code != 0]
    stop_code = text(detail.get("stopCode"))
    severity: Severity = ("warning" if failed or stop_code in (
        "TaskFailedToStart", "EssentialContainerExited") else "info")
    cluster = text(detail.get("clusterArn")).split("/")[-1]
    task_id = text(detail.get("taskArn")).split("/")[-1]
    group = text(detail.get("group")) or task_id
    # containers that never started (TaskFailedToStart, CannotPullContainerError) have no code
    exits = ", ".join(f"{name}={code:g}" for name, code in exited_codes)
    fields = [("Cluster", cluster), ("Task", task_id), ("Stop code", stop_code or "-")]
    if exits:
        fields.append(("Exit codes", exits))
    return ev.notice(
        source="aws.ecs", severity=severity,
        title=joined("ECS task", detail.get("lastStatus"), "in" if group else "", group),
        text=text(detail.get("stoppedReason")), fields=tuple(fields),
        link=link("Open task", links.ecs_task(ev.region, cluster, task_id)))


_ECS_EVENT_TYPE: dict[str, Severity] = {"ERROR": "critical", "WARN": "warning", "INFO": "info"}


def _ecs_service_names(ev: Event) -> tuple[str, str]:
    """(cluster, service) from `clusterArn` and the service ARN in `resources`."""
    resources = ev.event.get("resources")
    arn = next((r for r in resources if isinstance(r, str) and ":service/" in r), "") \
        if isinstance(resources, list) else ""
    path = arn.split(":service/", 1)[-1].split("/") if arn else []
    cluster = text(ev.detail.get("clusterArn")).split("/")[-1] or (
        path[0] if len(path) > 1 else "")
    return cluster, (path[-1] if path else "")


def _ecs_service(ev: Event) -> Notice:
    """`ECS Service Action` and `ECS Deployment State Change`."""
    detail = ev.detail
    name, kind = text(detail.get("eventName")), text(detail.get("eventType"))
    cluster, service = _ecs_service_names(ev)
    deployment = text(detail.get("deploymentId"))
    if name in ("SERVICE_DEPLOYMENT_FAILED", "SERVICE_DEPLOYMENT_ROLLBACK_FAILED"):
        severity: Severity = "critical"
    elif name == "SERVICE_DEPLOYMENT_COMPLETED" and kind in ("INFO", ""):
        severity = "ok"
    else:
        severity = _ECS_EVENT_TYPE.get(kind, "info")
    fields = [("Cluster", cluster or "-"), ("Service", service or "-"), ("Event", name),
              ("Type", kind or "-")]
    if deployment:
        fields.append(("Deployment", deployment))
    reasons = detail.get("reasons")
    if isinstance(reasons, list) and reasons:
        fields.append(("Reasons", joined(*reasons, sep=", ") or "-"))
    arns = detail.get("capacityProviderArns")
    providers = [text(a).split("/")[-1] for a in arns if text(a)] \
        if isinstance(arns, list) else []
    if providers:
        fields.append(("Capacity providers", ", ".join(providers)))
    tab = "deployments" if deployment else "health"
    return ev.notice(
        source="aws.ecs", severity=severity,
        title=f"ECS service {service or cluster or '?'}: {name}",
        text=text(detail.get("reason")), fields=tuple(fields),
        link=link("Open service", links.ecs_service(ev.region, cluster, service, tab))
        if cluster and service else None)


# ---------------------------------------------------------------- GuardDuty, Health, EC2
def _guardduty(ev: Event) -> Notice:
    detail = ev.detail
    level = number(detail.get("severity", 0)) or 0.0
    severity: Severity = "critical" if level >= 7 else "warning" if level >= 4 else "info"
    label = "High" if level >= 7 else "Medium" if level >= 4 else "Low"
    resource = detail.get("resource")
    kind = text(obj(resource).get("resourceType") if isinstance(resource, dict) else resource)
    return ev.notice(
        source="aws.guardduty", severity=severity,
        title="GuardDuty: " + (text(detail.get("title")) or text(detail.get("type"))
                               or "finding"),
        text=text(detail.get("description")),
        fields=(("Type", text(detail.get("type"))), ("Severity", f"{label} ({level:g})"),
                ("Resource", kind)),
        link=link("Open finding", links.guardduty_finding(ev.region, text(detail.get("id")))))


def _health(ev: Event) -> Notice:
    detail = ev.detail
    category = text(detail.get("eventTypeCategory"))
    severity: Severity = "warning" if category == "issue" else "info"
    description = next((text(d.get("latestDescription"))
                        for d in objects(detail.get("eventDescription"))), "")
    return ev.notice(
        source="aws.health", severity=severity,
        title="AWS Health: " + (joined(detail.get("service"), detail.get("eventTypeCode"))
                                or "event"),
        text=description,
        fields=(("Category", category), ("Status", text(detail.get("statusCode"))),
                ("Start", text(detail.get("startTime")))),
        link=link("Open AWS Health", links.health_dashboard()))


def _ec2_state(ev: Event) -> Notice:
    state = text(ev.detail.get("state"))
    instance = text(ev.detail.get("instance-id"))
    severity: Severity = "warning" if state in ("terminated", "shutting-down") else "info"
    return ev.notice(
        source="aws.ec2", severity=severity,
        title=f"EC2 {instance or 'instance'}" + (f" is {state}" if state else ""),
        fields=(("Instance", instance), ("State", state)),
        link=link("Open instance", links.ec2_instance(ev.region, instance)))


# ---------------------------------------------------------------- delegated to other modules
def _alarm(ev: Event) -> Notice:
    return render_alarm_event(ev.event, ev.detail, ev.incoming)


def _securityhub(ev: Event) -> Notice:
    return securityhub_findings(ev.detail, ev.region, ev.account, ev.shown_region)


def _backup(kind: str) -> Callable[[Event], Notice]:
    def render(ev: Event) -> Notice:
        return backup_job(kind, ev.detail, ev.region, ev.account, ev.shown_region)
    return render


def _cost_anomaly(ev: Event) -> Notice:
    return cost_anomaly_event(ev.detail)


EVENT_RENDERERS: dict[tuple[str, str], Callable[[Event], Notice]] = {
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"): _pipeline,
    ("aws.codepipeline", "CodePipeline Stage Execution State Change"): _pipeline_step,
    ("aws.codepipeline", "CodePipeline Action Execution State Change"): _pipeline_step,
    ("aws.codebuild", "CodeBuild Build State Change"): _codebuild,
    ("aws.codedeploy", "CodeDeploy Deployment State-change Notification"): _codedeploy,
    ("aws.ecs", "ECS Task State Change"): _ecs_task,
    ("aws.ecs", "ECS Service Action"): _ecs_service,
    ("aws.ecs", "ECS Deployment State Change"): _ecs_service,
    ("aws.guardduty", "GuardDuty Finding"): _guardduty,
    ("aws.health", "AWS Health Event"): _health,
    ("aws.ec2", "EC2 Instance State-change Notification"): _ec2_state,
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): _alarm,
    ("aws.securityhub", "Security Hub Findings - Imported"): _securityhub,
    ("aws.securityhub", "Security Hub Findings - Custom Action"): _securityhub,
    ("aws.backup", "Backup Job State Change"): _backup("backup"),
    ("aws.backup", "Copy Job State Change"): _backup("copy"),
    ("aws.backup", "Restore Job State Change"): _backup("restore"),
    ("aws.ce", "Anomaly Detected"): _cost_anomaly,
}


def render_event(event: JsonObject, incoming: Incoming) -> Notice:
    detail = obj(event.get("detail"))
    renderer = EVENT_RENDERERS.get((text(event.get("source")), text(event.get("detail-type"))))
    region = region_or(event.get("region"))
    account = valid_account(event.get("account"))
    if renderer is not None and event.get("region") and isinstance(event.get("detail"), dict):
        try:
            return renderer(Event(event, detail, incoming, region, account))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            logger.warning("event not in its usual shape", extra={"error": repr(exc),
                                                                  "source": event.get("source")})
    scalars = [(text(key), text(value)) for key, value in detail.items()
               if isinstance(value, str | int | float | bool) and text(value)][:10]
    return Notice(
        source=text(event.get("source")) or "eventbridge", severity="info",
        title=f"{text(event.get('detail-type')) or 'Event'} "
              f"({text(event.get('source')) or 'unknown source'})",
        fields=tuple(scalars), account=account, region=region or region_or(incoming.region))


# ---------------------------------------------------------------- CodeStar notifications
def render_codestar(payload: JsonObject, incoming: Incoming) -> Notice:
    """A notification rule's message: the EventBridge event under other keys (`detailType`),
    rendered by the same renderer, plus what `additionalAttributes` tells."""
    event = {"source": payload.get("source"), "detail-type": payload.get("detailType"),
             "account": payload.get("account"), "region": payload.get("region"),
             "time": payload.get("time"), "resources": payload.get("resources"),
             "detail": payload.get("detail")}
    notice = render_event(event, incoming)
    extra = obj(payload.get("additionalAttributes"))
    fields = list(notice.fields)
    if text(extra.get("failedStage")):
        fields.append(("Failed stage", text(extra["failedStage"])))
    lines = list(notice.lines)
    for action in objects(extra.get("failedActions")):
        info = text(action.get("additionalInformation"))
        lines.append(":x: " + (text(action.get("action")) or "?") + (f": {info}" if info else ""))
    rule = parse_arn(payload.get("notificationRuleArn"))
    if rule is not None and "notificationrule/" in rule.resource:
        fields.append(("Notification rule", rule.resource.split("/")[-1]))
    return dataclasses.replace(notice, fields=tuple(fields[:10]), lines=tuple(lines))
