"""One CloudTrail create call -> the creator tags its resources lack (never overwriting)."""

from __future__ import annotations

from auto_tagger.identity import Creator, creator_of
from auto_tagger.resources import EC2, EXTRACTORS, S3, resources_of
from auto_tagger.settings import TaggerConfig
from auto_tagger.taggers import S3_TAG_LIMIT, AddTags, Taggers
from opskit.actions import Action, Executor
from opskit.cloudtrail import ApiCall, not_actionable
from opskit.observability import logger
from opskit.runner import TargetRun

# EC2 CreateTags takes up to 1,000 resources; 50 keeps a failing batch cheap to bisect.
EC2_BATCH_SIZE = 50


def skip_reason(call: ApiCall, config: TaggerConfig) -> str | None:
    """Why this record must not be acted on, or None."""
    why = not_actionable(call, config.own_role_name)
    if why is not None:
        return why
    if call.event_name not in EXTRACTORS:
        return f"{call.event_name} is not a supported create call"
    if call.event_name == "CreateLoadBalancer" and "loadBalancerName" in call.request:
        # Same event name and source as ELB v2, but the Classic API names it loadBalancerName
        # and answers with no ARN: an unsupported resource, not a record missing its resource.
        return "a Classic Load Balancer is not supported"
    return None


def creator_tags(call: ApiCall, creator: Creator, config: TaggerConfig) -> dict[str, str]:
    return {
        config.creator_arn_key: creator.arn[:256],
        config.creator_key: creator.principal[:256],
        config.created_at_key: call.event_time,
        config.event_id_key: call.event_id,
    }


def tag_call(call: ApiCall, taggers: Taggers, executor: Executor,
             config: TaggerConfig) -> TargetRun:
    creator = creator_of(call.identity)
    wanted = creator_tags(call, creator, config)
    refs = resources_of(call)
    event = {"name": call.event_name, "id": call.event_id}
    creator_report = {"arn": creator.arn, "principal": creator.principal, "type": creator.kind}
    if not refs:
        # A supported create call whose record names nothing we can tag (null responseElements
        # with no usable request name, an older record shape): say so rather than tag nothing
        # in silence, so the resource can be tagged by hand.
        logger.warning("no resource named in the record", extra={
            **call.ids, "event_source": call.event_source,
            "response_null": call.response is None})
        note = (f"{call.event_name} record {call.event_id} ({call.event_source}) names no "
                "resource the auto-tagger can find: tag the new resource by hand")
        return TargetRun(title=f"{call.event_name} record {call.event_id} names no resource: "
                               "nothing tagged", severity="warning",
                         extra={"creator": creator_report, "event": event, "notes": [note]})
    by_service: dict[str, list[str]] = {}
    for ref in refs:
        by_service.setdefault(ref.service, []).append(ref.id)
    reason = f"created by {creator.principal} ({call.event_name})"
    for service, ids in by_service.items():
        existing, errors = taggers.existing_tags(service, ids)
        groups: dict[tuple[str, ...], list[Action]] = {}
        for resource in ids:
            if resource in errors:
                executor.fail(Action(resource, service, "tag", reason,
                                     details={"tags": wanted}), errors[resource])
                continue
            current = existing.get(resource, {})
            missing = {key: value for key, value in wanted.items() if key not in current}
            if not missing:
                continue  # already tagged (a re-delivered event): nothing to do
            action = Action(resource, service, "tag", reason, details={"tags": missing},
                            tags=current, params=AddTags(missing))
            if service == S3 and len(current) + len(missing) > S3_TAG_LIMIT:
                executor.fail(action, f"would pass the {S3_TAG_LIMIT}-tag limit "
                                      f"({len(current)} tags already)")
                continue
            groups.setdefault(tuple(sorted(missing)), []).append(action)
        for group in groups.values():
            executor.run(group, taggers.add_tags,
                         batch_size=EC2_BATCH_SIZE if service == EC2 else 1)
    verb = "Would tag" if config.common.dry_run else "Tagged"
    counts = executor.counts()
    tagged = counts["done"] + counts["planned"]
    title = f"{verb} {tagged} resource{'s' if tagged != 1 else ''} created by " \
            f"{creator.principal} ({call.event_name})"
    if counts["failed"]:
        title += f"; {counts['failed']} failed"
    return TargetRun(title=title, extra={"creator": creator_report, "event": event},
                     quiet=not config.report_tagged)
