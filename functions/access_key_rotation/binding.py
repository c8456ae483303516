"""Which user a rotation secret may act on: the one its tag names, when that user names the
secret back. The secret's value is never trusted to say whose key it is.

The rotation role cannot change either tag (no secretsmanager:TagResource; iam:TagUser only for
the timeline tags), and may manage keys only of users tagged `opskit:rotation-secret`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from access_key_rotation.protocol import KeySecret, RotationError
from opskit.iam_keys import SECRET_TAG_ON_USER, USER_TAG_ON_ROTATED
from opskit.tags import tags_to_dict

# IAM user names: 1-64 of letters, digits and +=,.@_- (the IAM API reference).
_USER_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def bound_user(metadata: Mapping[str, Any], user_tags: Callable[[str], dict[str, str]]
               ) -> tuple[str, dict[str, str]]:
    """(user, the user's tags) for a secret described by DescribeSecret or ListSecrets;
    RotationError, naming the tags and never a value, when the secret and user disagree."""
    name = str(metadata.get("Name", "?"))
    arn = str(metadata.get("ARN", ""))
    user = tags_to_dict(metadata.get("Tags")).get(USER_TAG_ON_ROTATED, "").strip()
    if not user:
        raise RotationError(f"secret {name} has no tag {USER_TAG_ON_ROTATED} naming its user: "
                            "nothing is rotated")
    if not _USER_NAME.fullmatch(user):
        raise RotationError(f"secret {name}: tag {USER_TAG_ON_ROTATED} is not an IAM user "
                            "name: nothing is rotated")
    tags = user_tags(user)
    named = tags.get(SECRET_TAG_ON_USER, "").strip()
    # The full ARN: a name can be reused (in another region, or after a deletion), an ARN's
    # random suffix cannot.
    if not arn or named != arn:
        raise RotationError(
            f"secret {name} names user {user}, but the user's tag {SECRET_TAG_ON_USER} "
            f"{'is missing' if not named else 'names another secret'}: tag the user "
            f"{SECRET_TAG_ON_USER}=<this secret's ARN> to let it rotate the user's key; "
            "nothing is rotated")
    return user, tags


def require_user(value: KeySecret, user: str, where: str) -> KeySecret:
    """The value must name the user the tags bind; another user is refused, not followed."""
    if value.user_name != user:
        raise RotationError(f"{where}: the value names another user than {user}, which the "
                            f"secret's tag {USER_TAG_ON_ROTATED} names: nothing is rotated")
    return value
