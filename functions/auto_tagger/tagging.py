"""One CloudTrail create call -> the creator tags its resources lack (never overwriting)."""

from __future__ import annotations

from auto_tagger.identity import Creator, creator_of
from auto_tagger.resources import EC2, EXTRACTORS, REQUEST_NAMED, S3, resources_of
from auto_tagger.settings import TaggerConfig
from auto_tagger.taggers import S3_TAG_LIMIT, Taggers
from opskit.actions import Action, Executor
from opskit.cloudtrail import ApiCall, not_actionable
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
    if call.response is None and call.event_name not in REQUEST_NAMED:
        return "no responseElements"
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
                            tags=current)
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
    return TargetRun(title=title,
                     extra={"creator": {"arn": creator.arn, "principal": creator.principal,
                                        "type": creator.kind},
                            "event": {"name": call.event_name, "id": call.event_id}},
                     quiet=not config.report_tagged)
