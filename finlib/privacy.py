"""Finding real names in outgoing text: the name scanner, the send guard, and aliasing of free text.

A name is found as a run of whole words: text and names are cut into tokens (letters and digits; each
Han/kana/Thai character is a token of its own, since those scripts do not separate words by spaces), and
each token is folded (NFKC, case-folded, accents removed). ``Müller & Söhne GmbH`` is therefore the token
run ``muller sohne gmbh``: ``&``, apostrophes and dots never hide a name, and matches are whole-word.
A name also matches without its legal suffix (``Müller & Söhne`` for ``Müller & Söhne GmbH``).
Names made only of common words (``Next``, ``Total``, ``Best Choice``) match only as written in the ledger or
in capitals: in lower case they are ordinary words and say nothing about who the customer is.
Lookup is one dictionary probe per token and name length, so thousands of names cost no more than a few.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from finlib.errors import PrivacyBlockedError

# ASCII boundaries, not \b: an alias written against Japanese or Cyrillic text ("CUST-7K3M9Q2Xの") is still one.
ALIAS_PATTERN = re.compile(r"(?<![0-9A-Za-z])(?:CUST|PERS)-[0-9A-Z]{2,40}(?![0-9A-Za-z])", re.IGNORECASE)
KIND_PREFIX = {"customer": "CUST", "person": "PERS"}
_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Combining marks (accents written apart, Arabic and Hebrew vowel points, Indic vowel signs) stay in their word.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u0900-\u0963\u0966-\u0dff\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
_TOKEN = re.compile(rf"[{_UNSPACED}]|(?:[^\W_{_UNSPACED}]|[{_MARKS}])+")
_SPACES = re.compile(r"\s+")

LEGAL_SUFFIXES = frozenset(
    "ab ag aps as bhd bv co company corp corporation cv gmbh inc incorporated kft kg kk limited llc llp lp ltd "
    "mbh nv oy oyj plc pte pty pvt sa sarl sas sdn spa sp srl sro zoo".split()
)
COMMON_WORDS = frozenset(
    """
    a about above across after again against all almost also always am among an and another any are around as
    ask at average back bad be because been before being below best better between big both but by can case
    change check choice city clear close come compare could current day days did do does done down due during
    each early east end even ever every expected fast few first for from full general get give go good great
    group had has have he her here high him his home how i if in into is it its just key last late later least
    less let like list long low made main make many may me more most much must my name near net new next no
    none north not now number of off old on once one only open or order other our out over own paid part past
    pay per plan plus point prime quick rate real right same say see set she should show since so some south
    start still such summit sum take than that the their them then there these they this those through time
    to today top total trend true under unit up us use value very was way we well west what when where which
    while who why will with within without work would year yes yet you your
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    amount amounts customer customers invoice invoices payment payments forecast overdue outstanding portfolio
    manager managers service services delay delays revenue sales client clients account accounts balance
    """.split()
)


@dataclass(frozen=True)
class NameEntry:
    """One aliased name of a project: its kind (``customer`` or ``person``), spelling, key and alias."""

    kind: str
    real_name: str
    key: str
    alias: str


@dataclass(frozen=True)
class NameHit:
    """A run of text that names one or more entries; ``full`` is False for a name found without its suffix."""

    start: int
    end: int
    text: str
    entries: tuple[NameEntry, ...]
    full: bool


@dataclass(frozen=True)
class _Variant:
    entries: tuple[NameEntry, ...]
    full: bool
    spellings: frozenset[str] | None  # set when only these exact spellings count (common-word names)


@functools.lru_cache(maxsize=65536)
def fold_token(token: str) -> str:
    """Comparison form of one token: NFKC, case-folded, accents removed."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", token).casefold())
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


def tokenise(text: str) -> list[tuple[int, int, str]]:
    """Tokens of ``text`` as (start, end, folded token); aliases are skipped so their letters never match."""
    blanked = ALIAS_PATTERN.sub(lambda m: " " * len(m.group()), text)
    return [(m.start(), m.end(), fold_token(m.group())) for m in _TOKEN.finditer(blanked)]


def _spelling(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def entries_from(source: Any) -> list[NameEntry]:
    """Name entries from an AliasBook, an entries DataFrame, NameEntry objects or (kind, name, [key,] alias) rows."""
    if isinstance(source, NameScanner):
        return list(source.entries)
    frame = getattr(source, "entries", source)
    if hasattr(frame, "itertuples") and hasattr(frame, "columns"):
        rows = frame[["kind", "real_name", "key", "alias"]].itertuples(index=False, name=None)
        return [NameEntry(str(k), str(n), str(key), str(a)) for k, n, key, a in rows]
    entries = []
    for item in frame:
        if isinstance(item, NameEntry):
            entries.append(item)
        elif len(item) == 3:
            kind, name, alias = item
            entries.append(NameEntry(kind, name, _spelling(name).casefold(), alias))
        else:
            entries.append(NameEntry(*item))
    return entries


class NameScanner:
    """Finds the real names of one project in any text; build once per project and reuse."""

    def __init__(self, entries: Iterable[NameEntry]) -> None:
        self.entries: tuple[NameEntry, ...] = tuple(entries)
        grouped: dict[tuple[str, ...], dict[bool, list[NameEntry]]] = {}
        spellings: dict[tuple[str, ...], set[str] | None] = {}
        for entry in self.entries:
            for tokens, full, spelling in _variants(entry.real_name):
                grouped.setdefault(tokens, {}).setdefault(full, []).append(entry)
                if all(t in COMMON_WORDS for t in tokens):
                    known = spellings.setdefault(tokens, set())
                    if known is not None:
                        known.update({spelling, spelling.upper()})
                else:
                    spellings[tokens] = None
        self._index: dict[tuple[str, ...], _Variant] = {}
        for tokens, by_full in grouped.items():
            # A full name beats the same words found as another name's shortened form.
            full = True in by_full
            named = sorted(by_full[full], key=lambda e: (e.kind != "customer", e.real_name, e.alias))
            known = spellings.get(tokens)
            self._index[tokens] = _Variant(tuple(named), full, frozenset(known) if known is not None else None)
        self._lengths = sorted({len(t) for t in self._index}, reverse=True)

    def __len__(self) -> int:
        return len(self.entries)

    def variants(self) -> list[tuple[tuple[str, ...], tuple[NameEntry, ...], bool, bool]]:
        """Every token run the index knows: (tokens, entries, is the full name, matches only as written)."""
        return [(t, v.entries, v.full, v.spellings is not None) for t, v in self._index.items()]

    def scan(self, text: str) -> list[NameHit]:
        """Every run of ``text`` that names an entry, overlapping ones included, in order of position."""
        tokens = tokenise(text)
        hits = []
        for i in range(len(tokens)):
            for n in self._lengths:
                if i + n > len(tokens):
                    continue
                variant = self._index.get(tuple(t[2] for t in tokens[i : i + n]))
                if variant is None:
                    continue
                start, end = tokens[i][0], tokens[i + n - 1][1]
                written = text[start:end]
                if variant.spellings is not None and _spelling(written) not in variant.spellings:
                    continue
                hits.append(NameHit(start, end, written, variant.entries, variant.full))
        return hits

    def find(self, text: str) -> list[NameHit]:
        """Non-overlapping name runs, the longest winning where names nest (``ABC Holdings`` over ``ABC``)."""
        return select_longest(self.scan(text))


def select_longest(hits: Sequence[NameHit]) -> list[NameHit]:
    """Keep the longest of overlapping hits (full names before shortened ones), in order of position."""
    chosen: list[NameHit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), not h.full, h.start)):
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


def _variants(name: str) -> list[tuple[tuple[str, ...], bool, str]]:
    """Token runs a name is known by: the whole name, and the name without legal suffixes or a leading 'the'."""
    found = tokenise(name)
    if not found:
        return []
    variants = [(tuple(t[2] for t in found), True, _spelling(name))]
    core = list(found)
    while len(core) > 1 and core[-1][2] in LEGAL_SUFFIXES:
        core.pop()
    if len(core) > 1 and core[0][2] == "the":
        core.pop(0)
    if len(core) < len(found):
        tokens = tuple(t[2] for t in core)
        # One- or two-letter stubs ("AB" of "AB Ltd") are too weak to stand for the name on their own.
        if len("".join(tokens)) >= 3 or any(ord(c) > 0x2E7F for c in "".join(tokens)):
            variants.append((tokens, False, _spelling(name[core[0][0] : core[-1][1]])))
    return variants


def as_scanner(names: NameScanner | Iterable[Any]) -> NameScanner:
    """A scanner from a scanner, name entries, an AliasBook, or plain real-name strings."""
    if isinstance(names, NameScanner):
        return names
    if hasattr(names, "entries") or hasattr(names, "itertuples"):
        return NameScanner(entries_from(names))
    items = list(names)
    if all(isinstance(n, str) for n in items):
        return NameScanner(NameEntry("customer", n, _spelling(n).casefold(), "") for n in items)
    return NameScanner(entries_from(items))


def find_real_names(text: str, names: NameScanner | Iterable[Any]) -> list[str]:
    """Real names (as spelled in the ledger) that ``text`` contains, whole-word and case-insensitively."""
    found: dict[str, None] = {}
    for hit in as_scanner(names).find(text):
        for entry in hit.entries:
            found.setdefault(entry.real_name, None)
    return list(found)


def payload_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """All text of a chat payload (every message's content, whatever its shape), one message per line."""
    parts = []
    for message in messages:
        content = message.get("content", "")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(str(v) for v in _strings(content))
        if message.get("name"):
            parts.append(str(message["name"]))
    return "\n".join(parts)


def check_payload(messages: Sequence[Mapping[str, Any]], names: NameScanner | Iterable[Any]) -> None:
    """Raise PrivacyBlockedError if any real name of the project appears anywhere in the payload."""
    found = find_real_names(payload_text(messages), names)
    if found:
        error = PrivacyBlockedError(
            f"Nothing was sent to the model: the request still contained {len(found)} real "
            f"name{'s' if len(found) > 1 else ''} of this project that could not be replaced by an alias. "
            "Rephrase the question (pick the customer from the list, or leave the name out) and ask again."
        )
        error.found = found  # type: ignore[attr-defined]
        raise error


def alias_text(text: str, names: NameScanner) -> str:
    """``text`` with every real name replaced by its alias (free-text fields: notes, locations, services)."""
    hits = names.find(text)
    if not hits:
        return text
    pieces, position = [], 0
    for hit in hits:
        # A name without an alias stays as it is, so the send guard refuses it rather than it vanishing.
        pieces.extend([text[position : hit.start], hit.entries[0].alias or hit.text])
        position = hit.end
    pieces.append(text[position:])
    return "".join(pieces)


def alias_strings(value: Any, names: NameScanner) -> Any:
    """A copy of a nested structure (dicts, lists, tuples) with every string, keys included, aliased."""
    if isinstance(value, str):
        return alias_text(value, names)
    if isinstance(value, Mapping):
        return {alias_strings(k, names): alias_strings(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [alias_strings(v, names) for v in value]
    return value


def _strings(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
    else:
        yield value
