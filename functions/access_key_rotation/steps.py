"""The four rotation steps for a secret holding an IAM user's access key.

Each step is idempotent for its token: a step run twice (Secrets Manager retries) finds its work
done and does nothing. Writes go through the executor (dry-run, report); reads are direct.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from access_key_rotation.binding import bound_user, require_user
from access_key_rotation.protocol import (
    CURRENT,
    PENDING,
    PREVIOUS,
    KeySecret,
    RotationError,
    RotationEvent,
    Step,
    current_version,
    token_stage,
)
from access_key_rotation.timeline import Periods
from opskit.actions import Action, Executor, Status, error_code
from opskit.iam_keys import (
    DEACTIVATED_TAG_PREFIX,
    REPLACED_TAG_PREFIX,
    deactivated_at,
    deactivation_tag,
    replacement_tag,
)
from opskit.observability import logger
from opskit.runner import TargetRun
from opskit.tags import tags_to_dict

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sts import STSClient

KEY = "iam:access-key"
STORE = "secretsmanager:secret"
# A new key can take some seconds to be accepted everywhere (IAM is eventually consistent).
NOT_YET_VALID = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied",
                           "UnrecognizedClientException"})
StsFor = Callable[[KeySecret], "STSClient"]


def wait(seconds: float) -> None:
    """The pause between tries of a new key (a module function, so tests can replace it)."""
    time.sleep(seconds)


@dataclass
class Rotator:
    sm: SecretsManagerClient
    iam: IAMClient
    sts_for: StsFor
    executor: Executor
    sleep: Callable[[float], None] | None = None
    test_attempts: int = 8
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # How long an inactive key stays before it may be deleted to make room (timeline.Periods).
    periods: Periods = field(default_factory=lambda: Periods(timedelta(days=10),
                                                             timedelta(days=10)))
    # Set by run(): the user the secret's tags bind, and that user's tags.
    user: str = ""
    user_tags: dict[str, str] = field(default_factory=dict)

    def tags_of(self, user: str) -> dict[str, str]:
        try:
            return tags_to_dict(self.iam.list_user_tags(UserName=user)["Tags"])
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                raise RotationError(f"user {user} does not exist: nothing is rotated") from None
            raise

    def run(self, event: RotationEvent) -> TargetRun:
        metadata = self.sm.describe_secret(SecretId=event.secret_id)
        name = str(metadata.get("Name", event.secret_id))
        self.user, self.user_tags = bound_user(metadata, self.tags_of)
        if token_stage(metadata, event.token) == CURRENT:
            logger.info("version already current", extra={"step": str(event.step),
                                                         "secret": name})
            if event.step == Step.FINISH:
                # A retry after the promotion: make sure the previous key was deactivated.
                return self.finish_previous(event, name)
            return TargetRun(title=f"{name}: {event.step} already done", quiet=True)
        steps = {Step.CREATE: self.create, Step.SET: self.set, Step.TEST: self.test,
                 Step.FINISH: self.finish}
        return steps[event.step](event, name, metadata)

    # ------------------------------------------------------------------ reads
    def _secret(self, event: RotationEvent, name: str, stage: str) -> KeySecret | None:
        kwargs: dict[str, Any] = {"SecretId": event.secret_id, "VersionStage": stage}
        if stage == PENDING:
            kwargs["VersionId"] = event.token
        try:
            value = self.sm.get_secret_value(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException" and stage != CURRENT:
                return None
            raise
        where = f"secret {name} {stage}"
        return require_user(KeySecret.parse(value.get("SecretString"), where), self.user, where)

    # ------------------------------------------------------------------ steps
    def create(self, event: RotationEvent, name: str, _: Any) -> TargetRun:
        current = self._secret(event, name, CURRENT)
        if current is None:  # AWSCURRENT always exists; get_secret_value raises otherwise
            raise RotationError(f"secret {name} has no {CURRENT} value")
        if self._secret(event, name, PENDING) is not None:
            return TargetRun(title=f"{name}: new key already created", quiet=True)
        user, tags = self.user, self.user_tags
        if self.executor.exemption(tags) is not None:
            raise RotationError(f"user {user} is exempt (tagged "
                                f"{self.executor.exemption_tag_key}): no key is rotated")
        keys = self.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        if current.access_key_id not in {k["AccessKeyId"] for k in keys}:
            raise RotationError(f"key {current.access_key_id} in secret {name} {CURRENT} is not "
                                f"a key of user {user}: nothing is rotated")
        if len(keys) >= 2:
            self._make_room(user, tags, keys, current.access_key_id, name)
        created: dict[str, str] = {}

        def create_and_stage(_: Sequence[Action]) -> None:
            key = self.iam.create_access_key(UserName=user)["AccessKey"]
            created["id"] = key["AccessKeyId"]
            pending = KeySecret(user, key["AccessKeyId"], key["SecretAccessKey"])
            try:
                self.sm.put_secret_value(SecretId=event.secret_id,
                                         ClientRequestToken=event.token,
                                         SecretString=pending.dumps(), VersionStages=[PENDING])
            except (ClientError, BotoCoreError):
                # Never leave a key nobody can read: the retry creates a fresh one.
                self.iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
                raise

        self._must(self.executor.run(
            [Action(user, "iam:user", "create-key", f"rotation of secret {name}",
                    {"secret": name, "version": event.token})], create_and_stage))
        return TargetRun(title=f"{name}: new key {created.get('id', '(planned)')} for {user} "
                               f"staged {PENDING}", quiet=not self.executor.dry_run)

    def _make_room(self, user: str, tags: dict[str, str], keys: Sequence[Any], current: str,
                   name: str) -> None:
        """IAM allows two keys: the other one goes only when it has been inactive a full
        period (counted from its deactivation, or from when it was first seen inactive)."""
        others = [k for k in keys if k["AccessKeyId"] != current]
        active = [k["AccessKeyId"] for k in others if k["Status"] == "Active"]
        if active:
            raise RotationError(
                f"user {user} already has two keys and none is inactive "
                f"({', '.join([current, *active])}): the one not in secret {name} is still "
                "active (in its overlap after the last rotation, or made by a person); rotation "
                "can replace it once it has been deactivated and deleted")
        old = sorted(others, key=lambda k: k["CreateDate"])[0]["AccessKeyId"]
        since = deactivated_at(tags, old)
        now = self.now()
        wait = self.periods.deletion_for(tags, old)
        if since is None:
            # Deactivated by a person, when is unknown: the period counts from now.
            def record(_: Sequence[Action]) -> None:
                self.iam.tag_user(UserName=user, Tags=[deactivation_tag(old, now)])

            self._must(self.executor.run(
                [Action(old, KEY, "record-inactive-key", f"{user}'s key {old} is inactive; "
                        f"it may be deleted from {now + wait:%Y-%m-%d}",
                        {"user": user}, tags)], record))
            since = now
        if now - since < wait:
            raise RotationError(
                f"user {user} already has two keys: {old} is inactive since "
                f"{since:%Y-%m-%d %H:%M} UTC and may be deleted from "
                f"{since + wait:%Y-%m-%d %H:%M} UTC; rotation resumes then (or "
                "delete it yourself)")

        def delete(_: Sequence[Action]) -> None:
            self.iam.delete_access_key(UserName=user, AccessKeyId=old)
            self.iam.untag_user(UserName=user, TagKeys=[f"{DEACTIVATED_TAG_PREFIX}{old}",
                                                        f"{REPLACED_TAG_PREFIX}{old}"])

        self._must(self.executor.run(
            [Action(old, KEY, "delete-inactive-key", f"{user} has two keys: {old}, inactive "
                    f"since {since:%Y-%m-%d}, makes room", {"user": user}, tags)],
            delete, idempotent_errors=("NoSuchEntity",)))

    def set(self, event: RotationEvent, name: str, _: Any) -> TargetRun:
        # IAM has nothing to set: the key is live as soon as it exists. The step stays so the
        # protocol is whole; it only checks that the pending version is there and well formed.
        if self._secret(event, name, PENDING) is None:
            raise RotationError(f"secret {name} has no {PENDING} value for {event.token}")
        return TargetRun(title=f"{name}: nothing to set for IAM", quiet=True)

    def test(self, event: RotationEvent, name: str, _: Any) -> TargetRun:
        pending = self._secret(event, name, PENDING)
        if pending is None:
            raise RotationError(f"secret {name} has no {PENDING} value for {event.token}")
        sts = self.sts_for(pending)
        delay = 1.0
        for attempt in range(1, self.test_attempts + 1):
            try:
                arn = sts.get_caller_identity()["Arn"]
                break
            except ClientError as exc:
                if error_code(exc) not in NOT_YET_VALID or attempt == self.test_attempts:
                    raise RotationError(f"the new key {pending.access_key_id} of "
                                        f"{pending.user_name} does not work: "
                                        f"{error_code(exc)}") from None
                logger.info("new key not valid yet", extra={"attempt": attempt,
                                                            "key": pending.access_key_id})
                (self.sleep or wait)(delay)
                delay = min(delay * 2, 8.0)
        if not arn.endswith(f"/{self.user}") or ":user/" not in arn:
            raise RotationError(f"the new key {pending.access_key_id} signs as {arn}, not as "
                                f"user {pending.user_name}")
        return TargetRun(title=f"{name}: new key {pending.access_key_id} works", quiet=True)

    def finish(self, event: RotationEvent, name: str, metadata: Any) -> TargetRun:
        previous = self._secret(event, name, CURRENT)
        pending = self._secret(event, name, PENDING)
        if pending is None or previous is None:
            raise RotationError(f"secret {name} has no {PENDING} value for {event.token}")
        old_version = current_version(metadata)
        moves: dict[str, Any] = {"RemoveFromVersionId": old_version} if old_version else {}

        def promote(_: Sequence[Action]) -> None:
            self.sm.update_secret_version_stage(SecretId=event.secret_id, VersionStage=CURRENT,
                                                MoveToVersionId=event.token, **moves)

        promoted = self.executor.run(
            [Action(name, STORE, "promote-version", f"{PENDING} {event.token} becomes "
                    f"{CURRENT}", {"from_version": old_version, "to_version": event.token,
                                   "new_key": pending.access_key_id})], promote)
        self._must(promoted)
        if previous.access_key_id != pending.access_key_id:
            self._record_replaced(previous, pending.access_key_id, name)
        verb = "Would rotate" if self.executor.dry_run else "Rotated"
        return TargetRun(title=f"{verb} the access key of {pending.user_name} ({name}): "
                               f"{pending.access_key_id} is current")

    def _record_replaced(self, previous: KeySecret, new_key: str, name: str) -> None:
        """The previous key stays active for the overlap (consumers that cache credentials
        move over); the daily timeline run deactivates it, then deletes it."""
        user, old = self.user, previous.access_key_id

        def record(_: Sequence[Action]) -> None:
            self.iam.tag_user(UserName=user, Tags=[replacement_tag(old, self.now())])

        self._must(self.executor.run(
            [Action(old, KEY, "record-replaced-key", f"replaced by {new_key} in {name}; stays "
                    "active for the overlap, then is deactivated and deleted", {"user": user},
                    self.user_tags)], record, idempotent_errors=("NoSuchEntity",)))

    def finish_previous(self, event: RotationEvent, name: str) -> TargetRun:
        """finishSecret again after the promotion: record the replacement if it is missing."""
        current = self._secret(event, name, CURRENT)
        previous = self._secret(event, name, PREVIOUS)
        if current is None or previous is None or previous.access_key_id == current.access_key_id:
            return TargetRun(title=f"{name}: finishSecret already done", quiet=True)
        if f"{REPLACED_TAG_PREFIX}{previous.access_key_id}" in self.user_tags or \
                f"{DEACTIVATED_TAG_PREFIX}{previous.access_key_id}" in self.user_tags:
            return TargetRun(title=f"{name}: finishSecret already done", quiet=True)
        keys = self.iam.list_access_keys(UserName=self.user)["AccessKeyMetadata"]
        if any(k["AccessKeyId"] == previous.access_key_id for k in keys):
            self._record_replaced(previous, current.access_key_id, name)
            return TargetRun(title=f"{name}: the previous key {previous.access_key_id} is "
                                   "recorded as replaced")
        return TargetRun(title=f"{name}: finishSecret already done", quiet=True)

    @staticmethod
    def _must(outcomes: Sequence[Any]) -> None:
        """A write that failed stops the step, so Secrets Manager fails and retries it."""
        for outcome in outcomes:
            if outcome.status == Status.FAILED:
                raise RotationError(f"{outcome.action.action} failed: "
                                    f"{outcome.note or 'see the report'}")
