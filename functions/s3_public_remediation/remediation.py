"""One bucket (an event) or every bucket of a region (the sweep): find, plan, apply, report."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from opskit.actions import Action, Executor, Outcome, Status, error_code
from opskit.observability import logger
from opskit.runner import TargetRun
from s3_public_remediation.buckets import BucketGoneError, BucketReader
from s3_public_remediation.planner import (
    BLOCK,
    CHANGES,
    RESOURCE_TYPE,
    STRIP_ACL,
    STRIP_POLICY,
    BucketState,
    Change,
    Findings,
    changes,
    find,
    mode_of,
    report_only,
)
from s3_public_remediation.policy import PolicyError
from s3_public_remediation.settings import Mode, S3Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# "Already in that state" answers of the remediation calls: success, not failure.
IDEMPOTENT = ("NoSuchBucketPolicy",)


def _apply(s3: S3Client, change: Change, _batch: Sequence[Action]) -> None:
    bucket, params = change.action.resource, change.params
    match change.call:
        case "put_bucket_acl":
            s3.put_bucket_acl(Bucket=bucket, **params)
        case "put_bucket_policy":
            s3.put_bucket_policy(Bucket=bucket, **params)
        case "delete_bucket_policy":
            s3.delete_bucket_policy(Bucket=bucket, **params)
        case "put_public_access_block":
            s3.put_public_access_block(Bucket=bucket, **params)


# Bucket reads have no batch API: a sweep reads this many buckets at once (boto3 clients are
# thread-safe), so a large account fits in one invocation. Writes stay one at a time.
READ_WORKERS = 8
Read = BucketState | Exception


def read_state(reader: BucketReader, bucket: str) -> Read:
    try:
        return reader.state(bucket)
    except (BucketGoneError, ClientError, BotoCoreError) as exc:
        return exc


# A bucket whose ACL or policy keeps changing while it is being closed is planned this many times
# at most, then left alone: each of those changes has its own CloudTrail record and check.
PLAN_ATTEMPTS = 3


class ChangedWhileClosingError(Exception):
    """The ACL or policy changed again after every re-plan; nothing was written."""


def _same_acl(one: Mapping[str, Any] | None, other: Mapping[str, Any] | None) -> bool:
    """Equal owner and grants, whatever the order S3 lists the grants in."""
    def key(acl: Mapping[str, Any] | None) -> tuple[str, list[str]]:
        acl = acl or {}
        return (json.dumps(acl.get("Owner"), sort_keys=True),
                sorted(json.dumps(grant, sort_keys=True) for grant in acl.get("Grants") or []))
    return key(one) == key(other)


def _stale(reader: BucketReader, state: BucketState, planned: Sequence[Change]) -> bool:
    """Whether the ACL or policy a planned write was built from differs from S3's copy now."""
    actions = {change.action.action for change in planned}
    if STRIP_ACL in actions and not _same_acl(reader.acl(state.name), state.acl):
        return True
    return STRIP_POLICY in actions and reader.policy(state.name) != state.policy


def fresh_plan(reader: BucketReader, state: BucketState, findings: Findings,
               tags: Mapping[str, str], ownership: str | None,
               ) -> tuple[BucketState, Findings, list[Change]]:
    """The changes, checked against the ACL and policy read again just before they are written.
    A sweep reads every bucket before it writes any: a grant or statement added in between would
    be lost if a stale copy were written back, so a changed bucket is read and planned again."""
    planned = changes(state, findings, tags, ownership)
    for attempt in range(1, PLAN_ATTEMPTS + 1):
        if not _stale(reader, state, planned):
            return state, findings, planned
        if attempt == PLAN_ATTEMPTS:
            break
        logger.info("bucket changed since it was read; planning again",
                    extra={"bucket": state.name, "attempt": attempt})
        state = reader.state(state.name)
        findings = find(state)
        if not findings:
            return state, findings, []
        if findings.grants and ownership is None:
            ownership = reader.ownership(state.name)
        planned = changes(state, findings, tags, ownership)
    raise ChangedWhileClosingError(
        f"the ACL or policy changed during each of {PLAN_ATTEMPTS} checks; nothing written, "
        "the next check closes the bucket")


def check_bucket(reader: BucketReader, bucket: str, executor: Executor,
                 config: S3Config, read: Read | None = None) -> None:
    """Reads the bucket's live state (unless `read` already holds it) and closes (or reports)
    what makes it public."""
    inspect = Action(bucket, RESOURCE_TYPE, "inspect", "read Block Public Access, ACL and policy")
    try:
        state = read if read is not None else reader.state(bucket)
        if isinstance(state, Exception):
            raise state
        findings = find(state)
        if not findings:
            return
        tags = reader.tags(bucket)
        exempt = executor.exemption(tags)
        if exempt is not None:
            executor.skip(report_only(state, findings, tags, "exempt"), exempt)
            return
        try:
            mode = mode_of(bucket, tags, config)
        except ValueError as exc:
            executor.fail(report_only(state, findings, tags, "invalid tag"), str(exc))
            return
        ownership = (reader.ownership(bucket) if mode == Mode.REMEDIATE and findings.grants
                     else None)
        planned: list[Change] = []
        if mode == Mode.REMEDIATE and config.common.dry_run:
            planned = changes(state, findings, tags, ownership)
        elif mode == Mode.REMEDIATE:
            # Last thing before the writes: the copy they are built from is still S3's.
            state, findings, planned = fresh_plan(reader, state, findings, tags, ownership)
            if not findings:
                logger.info("bucket no longer public", extra={"bucket": bucket})
                return
    except BucketGoneError:
        executor.skip(inspect, "the bucket no longer exists")
        return
    except PolicyError as exc:
        executor.fail(inspect, f"bucket policy not analysed, nothing changed: {exc}")
        return
    except ChangedWhileClosingError as exc:
        executor.fail(inspect, str(exc))
        return
    except (ClientError, BotoCoreError) as exc:
        executor.fail(inspect, f"{error_code(exc)}: {exc}")
        return
    logger.info("public bucket", extra={"bucket": bucket, "mode": str(mode),
                                        "reasons": findings.reasons})
    if mode == Mode.ALLOW:
        executor.skip(report_only(state, findings, tags, "allow"),
                      "allow-listed public bucket (website or intended share)")
    elif mode == Mode.REPORT:
        executor.run([report_only(state, findings, tags, "report")], lambda _: None)
    else:
        for change in planned:
            executor.run([change.action], partial(_apply, reader.s3, change),
                         idempotent_errors=IDEMPOTENT)


def still_public(outcomes: Sequence[Outcome]) -> list[str]:
    """Buckets left public: reported only, planned (dry-run), or not fully closed."""
    closed = {o.action.resource for o in outcomes
              if o.action.action == BLOCK and o.status == Status.DONE}
    return sorted({o.action.resource for o in outcomes
                   if o.action.action != "inspect" and o.status != Status.SKIPPED
                   and o.action.resource not in closed})


def summary(outcomes: Sequence[Outcome], dry_run: bool, scope: str,
            extra: dict[str, Any] | None = None) -> TargetRun:
    public = sorted({o.action.resource for o in outcomes
                     if o.action.action != "inspect" and o.status != Status.SKIPPED})
    open_ = still_public(outcomes)
    failed = [o for o in outcomes if o.status == Status.FAILED]
    gone = [o.action.resource for o in outcomes
            if o.action.action == "inspect" and o.status == Status.SKIPPED]
    extra = dict(extra or {})
    if gone:
        extra["error"] = (f"bucket {gone[0]} no longer exists; nothing to check" if len(gone) == 1
                          else f"buckets {', '.join(gone)} no longer exist; nothing to check")
    if not public:
        title = (f"{len(failed)} S3 bucket(s) could not be checked ({scope})" if failed
                 else f"No public S3 bucket ({scope})")
        return TargetRun(title=title, severity="warning" if failed else "info", extra=extra)
    names = ", ".join(public[:3]) + (f" and {len(public) - 3} more" if len(public) > 3 else "")
    changing = {o.action.resource for o in outcomes if o.action.action in CHANGES}
    parts = []
    if dry_run and changing:
        parts.append(f"Would close public access on {len(changing)} S3 bucket(s)")
    elif not dry_run and len(public) > len(open_):
        parts.append(f"Closed public access on {len(public) - len(open_)} S3 bucket(s)")
    # Report-only buckets and invalid mode tags stay public whatever the mode.
    left = sorted(set(public) - changing) if dry_run else open_
    if left:
        parts.append(f"{len(left)} {'still' if parts else 'S3 bucket(s) still'} public")
    title = f"{', '.join(parts)}: {names}"
    extra["public_buckets"] = public
    extra["still_public"] = open_
    return TargetRun(title=title, severity="critical" if open_ or failed else "warning",
                     extra=extra)


def check_buckets(reader: BucketReader, names: Iterable[str], executor: Executor,
                  config: S3Config, *, scope: str,
                  extra: dict[str, Any] | None = None) -> TargetRun:
    extra = dict(extra or {})
    if reader.account_block().neutralises_everything:
        # The account ignores public ACLs and restricts public policies: nothing can be public.
        extra["buckets_checked"] = 0
        return TargetRun(title=f"No public S3 bucket ({scope}): the account blocks public "
                               "access", extra=extra)
    listed = list(names)
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        reads = list(pool.map(partial(read_state, reader), listed))
    checked = 0
    for name, read in zip(listed, reads, strict=True):
        check_bucket(reader, name, executor, config, read)
        checked += 1
    run = summary(executor.outcomes, config.common.dry_run, scope, extra)
    run.extra["buckets_checked"] = checked
    return run
