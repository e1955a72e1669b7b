"""The name scanner's index as built before it was optimised: what every faster build must reproduce exactly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from finlib.privacy.scanner import (
    _TOKEN,
    _UNSPACED_CHAR,
    COMMON_WORDS,
    CONNECTORS,
    LEGAL_SUFFIXES,
    MAX_SHARED_PART,
    NameEntry,
    fold_token,
    folded_key,
)


def reference_is_distinctive(words: Sequence[str]) -> bool:
    """``is_distinctive`` as first written."""
    joined = "".join(words)
    if any(_UNSPACED_CHAR.search(w) for w in words) or not any(c.isalpha() for c in joined):
        return False
    if all(w in COMMON_WORDS or w in LEGAL_SUFFIXES or w in CONNECTORS for w in words):
        return False
    return len(joined) >= 3 or (len(joined) == 2 and any(c.isdigit() for c in joined))


def reference_name_variants(entry: NameEntry) -> list[tuple[tuple[str, ...], int]]:
    """``name_variants`` as first written."""
    found = [fold_token(m.group()) for m in _TOKEN.finditer(entry.real_name)]
    if not found:
        return []
    variants = [(tuple(found), 0)]
    core = list(found)
    while len(core) > 1 and core[-1] in LEGAL_SUFFIXES:
        core.pop()
    if len(core) > 1 and core[0] == "the":
        core.pop(0)
    if len(core) < len(found):
        if len("".join(core)) >= 3 or any(ord(c) > 0x2E7F for c in "".join(core)):
            variants.append((tuple(core), 1))
    if entry.kind == "person":
        runs = [tuple(core[i:j]) for i in range(len(core)) for j in range(i + 1, len(core) + 1)]
        variants.extend(
            (run, 2)
            for run in runs
            if len(run) < len(core) and (reference_is_distinctive(run[:1]) or reference_is_distinctive(run[-1:]))
        )
    else:
        variants.extend(
            (tuple(core[:size]), 2) for size in range(1, len(core)) if reference_is_distinctive(core[:size])
        )
    return variants


def reference_index(
    entries: Iterable[NameEntry],
) -> tuple[dict[str, tuple[tuple[NameEntry, ...], bool, bool, str]], int]:
    """The index (key -> entries, whole name, generic, words) and the run limit, as ``NameScanner`` first built."""
    grouped: dict[str, dict[int, list[NameEntry]]] = {}
    generic: dict[str, bool] = {}
    words: dict[str, str] = {}
    longest = 1
    for entry in entries:
        for tokens, rank in reference_name_variants(entry):
            key = folded_key(tokens)
            if not key:
                continue
            grouped.setdefault(key, {}).setdefault(rank, []).append(entry)
            generic[key] = generic.get(key, True) and key in COMMON_WORDS
            words.setdefault(key, " ".join(tokens))
            longest = max(longest, len(tokens))
    index = {}
    for key, by_rank in grouped.items():
        parts = list(dict.fromkeys(by_rank.get(2, [])))
        if len(parts) > MAX_SHARED_PART:
            by_rank.pop(2)
        if not by_rank:
            continue
        best = [by_rank[0]] if 0 in by_rank else list(by_rank.values())
        named = sorted(
            dict.fromkeys(e for group in best for e in group),
            key=lambda e: (e.kind != "customer", e.real_name, e.alias),
        )
        index[key] = (tuple(named), 0 in by_rank, generic[key], words[key])
    return index, longest + 2
