"""Daily required-tags sweep: report resources missing required keys, grouped by creator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from auto_tagger.settings import TaggerConfig
from opskit.actions import Action, Executor
from opskit.runner import TargetRun
from opskit.tags import tags_to_dict

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

REPORT = "report-missing-tags"


def _service_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else "unknown"


def find_untagged(tagging: ResourceGroupsTaggingAPIClient, config: TaggerConfig) -> list[Action]:
    findings = []
    for page in tagging.get_paginator("get_resources").paginate(PaginationConfig={"PageSize": 100}):
        for item in page["ResourceTagMappingList"]:
            tags = tags_to_dict(item.get("Tags"))
            missing = [key for key in config.required_tags if key not in tags]
            if not missing:
                continue
            creator = tags.get(config.creator_key, "unknown")
            findings.append(Action(item["ResourceARN"], _service_of(item["ResourceARN"]), REPORT,
                                   f"missing {', '.join(missing)}",
                                   details={"missing": missing, "creator": creator}, tags=tags))
    return findings


def _report_only(batch: Sequence[Action]) -> None:
    """The report is the action: nothing is changed on the resource."""


def sweep(tagging: ResourceGroupsTaggingAPIClient, executor: Executor,
          config: TaggerConfig) -> TargetRun:
    findings = find_untagged(tagging, config)
    executor.run(findings, _report_only, batch_size=len(findings) or 1)
    def creator(action: Action) -> str:
        return action.tags.get(config.creator_key, "unknown")

    by_creator = Counter(creator(action) for action in findings)
    summary = ", ".join(f"{creator}: {n}" for creator, n in by_creator.most_common())
    title = (f"{len(findings)} resources miss required tags ({summary})" if findings
             else None)
    grouped: dict[str, list[str]] = {}
    for action in findings:
        grouped.setdefault(creator(action), []).append(action.resource)
    return TargetRun(title=title, severity="warning" if findings else None,
                     extra={"by_creator": grouped, "required_tags": list(config.required_tags)})
