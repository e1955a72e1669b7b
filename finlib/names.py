"""Identity of names: the normalised key two spellings share, and the spelling shown for it."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
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
    """Most frequent spelling per key (ties: the first seen), as a Series indexed by key, most frequent first.

    Keys and spellings are hashed once each (categoricals' codes are taken as they are) and the (key, spelling)
    pairs counted as integer codes: grouping the two text columns built and hashed a million pairs of strings
    (0.1-0.3 s and ~60 MB held at a million rows).
    """
    key_codes, key_values = _codes(keys)
    name_codes, name_values = _codes(cleaned)
    present = (key_codes >= 0) & (name_codes >= 0)
    if not present.any():
        return pd.Series(dtype="str", name="name")
    pairs = key_codes[present].astype(np.int64) * len(name_values) + name_codes[present]
    pair_codes, pair_values = pd.factorize(pairs)  # in order of first appearance, as a groupby without sorting
    by_count = np.argsort(-np.bincount(pair_codes), kind="stable")
    pair_keys = pair_values[by_count] // len(name_values)
    _, first = np.unique(pair_keys, return_index=True)  # each key's most frequent pair (the first seen on ties)
    best = by_count[np.sort(first)]
    # Through NumPy, so that the dtypes are inferred as a grouping infers them (text: "str", whatever came in).
    index = pd.Index(np.asarray(key_values.take(pair_values[best] // len(name_values))), name="key")
    return pd.Series(np.asarray(name_values.take(pair_values[best] % len(name_values))), index=index, name="name")


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1: missing) and the values they stand for: a categorical's own, else a factorisation."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques)
