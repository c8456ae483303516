"""Tag conversions and the exemption test shared by every automation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

# The values that mean "yes" wherever opskit reads a flag: the exemption tag and DRY_RUN alike.
TRUE_VALUES = frozenset({"true", "yes", "1", "on"})


def tags_to_dict(tags: Iterable[Mapping[str, object]] | None) -> dict[str, str]:
    """Turn AWS's `[{"Key": k, "Value": v}]` list into a dict (None and missing values allowed)."""
    result: dict[str, str] = {}
    for tag in tags or ():
        key = tag.get("Key")
        if isinstance(key, str):
            result[key] = str(tag.get("Value", ""))
    return result


def dict_to_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Turn a dict into AWS's `[{"Key": k, "Value": v}]` list, in key order."""
    return [{"Key": key, "Value": tags[key]} for key in sorted(tags)]


def is_exempt(tags: Mapping[str, str], exemption_tag_key: str) -> bool:
    """A resource is exempt when it carries the exemption tag with a truthy value."""
    value = tags.get(exemption_tag_key)
    return value is not None and value.strip().lower() in TRUE_VALUES


def enum_tag[E: StrEnum](tags: Mapping[str, str], key: str, kind: type[E], default: E) -> E:
    """The tag's value as one of `kind` (case and surrounding spaces ignored), or `default`
    when the tag is absent; ValueError naming the tag and the values when it is none of them."""
    value = tags.get(key)
    if value is None:
        return default
    try:
        return kind(value.strip().lower())
    except ValueError:
        raise ValueError(f"tag {key}={value!r} is invalid: expected "
                         f"{', '.join(member.value for member in kind)}") from None
