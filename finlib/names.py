"""Identity of names: the normalised key two spellings share, and the spelling shown for it."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

_WHITESPACE = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """Key of one name: NFKC, trimmed, inner whitespace collapsed, case-folded."""
    text = unicodedata.normalize("NFKC", name)
    return _WHITESPACE.sub(" ", text).strip().casefold()


def normalise_names(names: pd.Series) -> pd.Series:
    """Vectorised ``normalise_name`` over a Series (missing stays missing)."""
    text = names.astype("str")
    keys = text.str.normalize("NFKC").str.replace(r"\s+", " ", regex=True).str.strip().str.casefold()
    return keys.where(names.notna())


def clean_display_names(names: pd.Series) -> pd.Series:
    """Display form of names: NFKC, trimmed, inner whitespace collapsed, case kept."""
    text = names.astype("str")
    cleaned = text.str.normalize("NFKC").str.replace(r"\s+", " ", regex=True).str.strip()
    return cleaned.where(names.notna())


def display_names(cleaned: pd.Series, keys: pd.Series) -> pd.Series:
    """Most frequent spelling per key (ties: the first seen), as a Series indexed by key."""
    frame = pd.DataFrame({"key": keys, "name": cleaned}).dropna()
    if frame.empty:
        return pd.Series(dtype="str", name="name")
    counts = frame.groupby(["key", "name"], sort=False).size().rename("count").reset_index()
    # Stable sort keeps first-seen order among equal counts.
    best = counts.sort_values("count", ascending=False, kind="stable").drop_duplicates("key")
    return best.set_index("key")["name"]
