"""Field masks by JSON path: values of personal data replaced before anything is written.

A path is `$.` then keys joined by dots; `*` stands for any key, `[*]` after a key for every
element of the list it holds: `$.user.email`, `$.headers.*`, `$.items[*].card_number`.
Keys match whatever their case (`$.headers.authorization` masks `Authorization` too), and a list
met on the way is gone through element by element (`$.user.email` masks
`{"user": [{"email": ...}]}` as well).
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SEGMENT = re.compile(r"(\*|[A-Za-z0-9_@$-][\w@$-]{0,127})(\[\*\])?")

# A path as segments: a key (or "*"), and whether the key holds a list to go through.
type MaskPath = tuple[tuple[str, bool], ...]


def parse_mask(text: str) -> MaskPath:
    """`$.a.b[*].c` as segments; ValueError naming what is wrong."""
    if not text.startswith("$."):
        raise ValueError("a JSON path starting with $. such as $.user.email")
    segments = []
    for part in text[2:].split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise ValueError(f"a JSON path of keys, * and [*] ({part!r} is not one)")
        segments.append((match[1], match[2] is not None))
    return tuple(segments)


def _mask(value: Any, path: MaskPath) -> tuple[Any, bool]:
    """`value` with what `path` names masked, and whether anything was."""
    if not path:
        return MASK, True
    if isinstance(value, list):  # gone through implicitly: the path applies to each element
        masked = [_mask(element, path) for element in value]
        if not any(done for _, done in masked):
            return value, False
        return [element for element, _ in masked], True
    if not isinstance(value, dict):
        return value, False
    (key, listed), rest = path[0], path[1:]
    wanted = key.casefold()
    keys = list(value) if key == "*" else [name for name in value
                                            if isinstance(name, str)
                                            and name.casefold() == wanted]
    changed = False
    copy = value
    for name in keys:
        item = value[name]
        if listed and isinstance(item, list):
            masked = [_mask(element, rest) for element in item]
            hit = any(done for _, done in masked)
            new: Any = [element for element, _ in masked]
        else:
            new, hit = _mask(item, rest)
        if hit:
            if copy is value:
                copy = dict(value)  # the parsed event is not changed in place
            copy[name] = new
            changed = True
    return copy, changed


def mask_fields(fields: dict[str, Any], paths: tuple[MaskPath, ...]) -> dict[str, Any]:
    """`fields` with every value a path names replaced by MASK."""
    for path in paths:
        fields = _mask(fields, path)[0]
    return fields
