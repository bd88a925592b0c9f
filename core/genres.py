"""Genre tags with several values: "reggaeton, latin", "Rock; Pop", ID3's NUL-separated lists,
mutagen's lists of values.

    split_genres("Rock; Pop")            -> ["Rock", "Pop"]
    split_genres(["Rock", "Pop, Funk"])  -> ["Rock", "Pop", "Funk"]
    join_genres(["Rock", "Pop"])         -> "Rock; Pop"

Values are separated by ``,``, ``;``, a NUL (ID3v2.4's separator inside one frame) or a line
break; a list of values (what mutagen returns for a multi-valued tag) is split item by item.  A
slash is *not* a separator: it is part of many genre names ("Jazz/Funk", "Pop/Funk",
"Folk/Rock" in the ID3v1 list), so "Jazz/Funk" stays one genre.  Each value is trimmed,
runs of spaces become one, and a value that repeats (case aside) is kept once, first spelling
first.
"""
from __future__ import annotations

import re
from typing import Iterable

#: what separates two values inside one piece of text
SEPARATORS = re.compile(r"[,;\x00\r\n]+")
#: how the catalog writes several values as one text (``split_genres`` reads it back)
JOINER = "; "


def split_genres(value: str | Iterable[str] | None) -> list[str]:
    """The genres in ``value`` (text, or a list of texts), in order, each once."""
    if value is None:
        return []
    parts: Iterable = [value] if isinstance(value, (str, bytes)) else value
    out: list[str] = []
    seen: set[str] = set()
    for part in parts:
        if part is None:
            continue
        if isinstance(part, bytes):
            part = part.decode("utf-8", "replace")
        for g in SEPARATORS.split(str(part)):
            g = " ".join(g.split())
            key = g.casefold()
            if g and key not in seen:
                seen.add(key)
                out.append(g)
    return out


def join_genres(genres: Iterable[str]) -> str:
    """Several genres as one text (``"Rock; Pop"``); "" for none."""
    return JOINER.join(genres)


def genre_keys(value: str | Iterable[str] | None) -> frozenset[str]:
    """The genres of ``value``, case-folded: what a genre filter compares."""
    return frozenset(g.casefold() for g in split_genres(value))
