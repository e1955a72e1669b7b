"""Finding real names in outgoing text: the name scanner, the send guard, and aliasing of free text.

A name is found as a run of whole words: text and names are cut into tokens (letters and digits; each
Han/kana/Thai character is a token of its own, since those scripts do not separate words by spaces), and
each token is folded (NFKC, case-folded, accents removed). A run is looked up by its *folded key*: its tokens
joined without spaces, with the connectors ``and``/``und``/``et``/``и`` dropped (``&`` and ``+`` are not tokens
at all). ``Müller & Söhne GmbH``, ``MULLER AND SOHNE GMBH`` and ``müller+söhne gmbh`` share the key
``mullersohnegmbh``; ``AlNoor`` and ``Al-Noor`` share ``alnoor``. Runs always start and end on token
boundaries, so matches are whole-word.

What a name is known by (every variant below is used alike by the send guard, by free-text aliasing and by
the question resolver in ``mentions``):
- the whole name, and the name without legal suffixes or a leading "the" (``Müller & Söhne``);
- customers: the leading words of the name up to and including its first distinctive word (``3M`` of
  ``3M Gulf``, ``Al Noor`` of ``Al Noor Builders``, ``Müller`` of ``Müller & Söhne GmbH``);
- people: every distinctive word of the name and every run of its words holding one (``Smith`` and ``John``
  of ``John Smith``, ``Al-Farsi`` and ``Farsi`` of ``Mohammed Al-Farsi``).
A word is *distinctive* when it has at least three characters (two if it mixes digits and letters) and is not
one of ``COMMON_WORDS``; a shortened form shared by more than ``MAX_SHARED_PART`` names is dropped, since it
names nobody in particular. Where two names share a run, a whole name beats a shortened one.

The rule for names made of common words. ``COMMON_WORDS`` is the question vocabulary: function words, the
words people ask about receivables with, and every word of the prompt and facts that ``chat`` writes itself
(a test keeps it so). Every variant matches case-insensitively, including multi-word names made only of
common words (``best choice`` is the customer ``Best Choice``), except *generic* ones: a single common word
standing alone, be it a one-word name (``Next``, ``Total``) or the one-word stub of a longer name (``Total``
of ``Total Ltd``). Written with a capital letter a generic word is the name; in lower case it is first of all
the ordinary word ("the next payment"), which the prompt itself uses, so the guard and free-text aliasing let
it pass. The resolver never lets such a word through silently: it reports it as an ambiguous mention (the
customer, or the plain word), the Chat page asks the user to pick, and without a pick (the CLI) the customer's
alias is sent and a note says so.
Lookup is one dictionary probe per token and run length, so thousands of names cost no more than a few.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from finlib.errors import PrivacyBlockedError
from finlib.privacy.aliasing import ALIAS_PATTERN, AliasBook, alias_shaped

T = TypeVar("T")
_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
# Combining marks (accents written apart, Arabic and Hebrew vowel points, Indic vowel signs) stay in their word.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u0900-\u0963\u0966-\u0dff\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
_TOKEN = re.compile(rf"[{_UNSPACED}]|(?:[^\W_{_UNSPACED}]|[{_MARKS}])+")

REDACTED = "[REDACTED]"
NOT_SENT_KEY = "not_sent"
CONNECTORS = frozenset({"and", "und", "et", "и"})
MAX_SHARED_PART = 8
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
    pay per plan plus point quick rate real right same say see set she should show since so some south
    start still such sum take than that the their them then there these they this those through time
    to today top total trend true under unit up us use value very was way we well west what when where which
    while who why will with within without work would year yes yet you your
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    amount amounts customer customers invoice invoices payment payments forecast overdue outstanding portfolio
    manager managers service services delay delays revenue sales client clients account accounts balance
    answer answers alias aliases appear appears behind briefly company conversation data date dates entries
    estimate exactly fact facts figures fraction fractions given guess html ignore images including
    instruction instructions invent links markdown mean never numbers plainly question questions quote reads
    receivable rounded says tax totals use using
    aging ageing as_of bucket buckets change collected count counted covers currency decreasing fastest growing
    increasing invoiced largest mentioned monthly month months moving note paid_count predicted rankings share
    shrinking slowest stable std trends unpaid anything avg dd dso inside location mm payers type write yyyy
    10pct 90pct 10th 90th backtested cash collections comes earliest error field fields formula holds interval
    latest left method original percentiles prefer typical week weekly weeks
    add balances cei countback kpi oldest possible rating recent symbol worklist
    activity percent quarter quarters weighted
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
    """A run of text that names one or more entries.

    ``full`` is False for a shortened form (no suffix, a leading part, a part of a person's name);
    ``plain_word`` is True for a generic word written in lower case, which may be the ordinary word.
    """

    start: int
    end: int
    text: str
    entries: tuple[NameEntry, ...]
    full: bool
    plain_word: bool = False


@dataclass(frozen=True)
class _Variant:
    entries: tuple[NameEntry, ...]
    full: bool
    generic: bool  # a single common word: the name only when written with a capital letter
    words: str  # the folded tokens joined by spaces (what fuzzy matching compares with)


@functools.lru_cache(maxsize=65536)
def fold_token(token: str) -> str:
    """Comparison form of one token: NFKC, case-folded, accents removed."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", token).casefold())
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


def tokenise(text: str, *, keep: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """Tokens of ``text`` as (start, end, folded token); aliases are skipped so their letters never match.

    ``keep`` holds alias-shaped real names (upper case): those are words like any other, so a customer literally
    called ``CUST-AAAAAAAA`` is still found.
    """
    blanked = ALIAS_PATTERN.sub(lambda m: m.group() if m.group().upper() in keep else " " * len(m.group()), text)
    return [(m.start(), m.end(), fold_token(m.group())) for m in _TOKEN.finditer(blanked)]


def folded_key(words: Iterable[str]) -> str:
    """The index key of a run of folded tokens: joined without spaces, connectors (``and``, ``und``) left out."""
    return "".join(w for w in words if w not in CONNECTORS)


def is_distinctive(words: Sequence[str]) -> bool:
    """True when a run of folded tokens can stand for a name on its own (see the module docstring)."""
    flags = _distinctive_prefixes(words)
    return bool(flags) and flags[-1]


def _distinctive_prefixes(words: Sequence[str]) -> list[bool]:
    """``is_distinctive(words[:n])`` for every n from 1 to ``len(words)``, in one pass over the words."""
    flags = []
    unspaced = has_alpha = has_digit = False
    all_ordinary = True
    length = 0
    for word in words:
        word_unspaced, word_alpha, ordinary, digit = _token_traits(word)
        unspaced, has_alpha, has_digit = unspaced or word_unspaced, has_alpha or word_alpha, has_digit or digit
        all_ordinary = all_ordinary and ordinary
        length += len(word)
        flags.append(not unspaced and has_alpha and not all_ordinary and (length >= 3 or (length == 2 and has_digit)))
    return flags


@functools.lru_cache(maxsize=65536)
def _token_traits(word: str) -> tuple[bool, bool, bool, bool]:
    """What ``is_distinctive`` asks of one token: unspaced script, has a letter, ordinary word, has a digit."""
    ordinary = word in COMMON_WORDS or word in LEGAL_SUFFIXES or word in CONNECTORS
    has_alpha = any(c.isalpha() for c in word)
    has_digit = any(c.isdigit() for c in word)
    return _UNSPACED_CHAR.search(word) is not None, has_alpha, ordinary, has_digit


def entries_from(book: AliasBook) -> list[NameEntry]:
    """The name entries of an AliasBook (one per aliased customer or person)."""
    # Columns as NumPy object arrays: itertuples over Arrow-backed strings took 0.19 s at 19k names, this 0.03.
    columns = [book.entries[c].to_numpy(dtype=object) for c in ("kind", "real_name", "key", "alias")]
    rows = zip(*columns, strict=True)
    return [NameEntry(str(kind), str(name), str(key), str(alias)) for kind, name, key, alias in rows]


class NameScanner:
    """Finds the real names of one project in any text; build once per project and reuse."""

    def __init__(self, entries: Iterable[NameEntry]) -> None:
        self.entries: tuple[NameEntry, ...] = tuple(entries)
        self.alias_shaped_names = frozenset(alias_shaped(e.real_name for e in self.entries if "-" in e.real_name))
        # Tens of thousands of lasting objects and no cycle among them: collections during the build would only
        # walk them (~0.1 s at 19k names, more when the build is repeated in a process).
        with _collector_paused():
            self._index, longest = _name_index(self.entries)
        # Runs in text may hold a few more tokens than the name ("Muller and Sohne" for "Müller & Söhne").
        self._longest = longest + 2

    @classmethod
    def from_book(cls, book: AliasBook) -> NameScanner:
        """The scanner of every name in an AliasBook."""
        return cls(entries_from(book))

    def __len__(self) -> int:
        return len(self.entries)

    def tokens(self, text: str) -> list[tuple[int, int, str]]:
        """``tokenise(text)``, keeping this project's alias-shaped real names as words."""
        return tokenise(text, keep=self.alias_shaped_names)

    def variants(self) -> list[tuple[str, tuple[NameEntry, ...], bool, bool]]:
        """Every run the index knows: (folded words, entries, is a whole name, is a generic common word)."""
        return [(v.words, v.entries, v.full, v.generic) for v in self._index.values()]

    def scan(self, text: str, *, plain_words: bool = False) -> list[NameHit]:
        """Every run of ``text`` that names an entry, overlapping ones included, in order of position.

        Generic words written in lower case are left out unless ``plain_words`` (the resolver asks about them).
        """
        tokens = self.tokens(text)
        hits = []
        index, longest = self._index, self._longest
        for i, (start, _, first) in enumerate(tokens):
            if first in CONNECTORS:
                continue
            key = ""
            for _, end, token in tokens[i : i + longest]:
                if token in CONNECTORS:
                    continue
                key += token
                variant = index.get(key)
                if variant is None:
                    continue
                written = text[start:end]
                plain = variant.generic and written == written.lower()
                if plain and not plain_words:
                    continue
                hits.append(NameHit(start, end, written, variant.entries, variant.full, plain))
        return hits

    def find(self, text: str) -> list[NameHit]:
        """Non-overlapping name runs, the longest winning where names nest (``ABC Holdings`` over ``ABC``)."""
        return select_longest(self.scan(text))


def _name_index(entries: Sequence[NameEntry]) -> tuple[dict[str, _Variant], int]:
    """The scanner's index (folded key -> variant) and the most tokens of a variant."""
    # key -> the (rank, entry) of each variant with that key (rank 0 whole name, 1 shortened, 2 part of
    # another's name), and the words of its first variant
    found: dict[str, list[tuple[int, NameEntry]]] = {}
    words: dict[str, str] = {}
    longest = 1
    for entry in entries:
        for tokens, rank in name_variants(entry):
            key = folded_key(tokens)
            if not key:
                continue
            named = found.get(key)
            if named is None:
                found[key] = [(rank, entry)]
                words[key] = " ".join(tokens)
            else:
                named.append((rank, entry))
            longest = max(longest, len(tokens))
    index: dict[str, _Variant] = {}
    for key, variants in found.items():
        if len(variants) == 1:
            # Nearly every key of a large ledger belongs to one name alone: nothing to choose between.
            ((rank, entry),) = variants
            index[key] = _Variant((entry,), rank == 0, key in COMMON_WORDS, words[key])
            continue
        by_rank: dict[int, list[NameEntry]] = {}
        for rank, entry in variants:
            by_rank.setdefault(rank, []).append(entry)
        if len(dict.fromkeys(by_rank.get(2, []))) > MAX_SHARED_PART:
            by_rank.pop(2)
        if not by_rank:
            continue
        # A whole name beats the same words found as another name's shortened form.
        best = [by_rank[0]] if 0 in by_rank else list(by_rank.values())
        ordered = sorted(
            dict.fromkeys(e for group in best for e in group),
            key=lambda e: (e.kind != "customer", e.real_name, e.alias),
        )
        index[key] = _Variant(tuple(ordered), 0 in by_rank, key in COMMON_WORDS, words[key])
    return index, longest


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def select_longest(hits: Sequence[NameHit]) -> list[NameHit]:
    """Keep the longest of overlapping hits (full names before shortened ones), in order of position."""
    chosen: list[NameHit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), not h.full, h.start)):
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


def name_variants(entry: NameEntry) -> list[tuple[tuple[str, ...], int]]:
    """Token runs a name is known by, each with its rank: 0 the whole name, 1 shortened, 2 a part of it."""
    # A name is tokenised whole: one spelled like an alias ("CUST-AAAAAAAA") is still a name.
    found = [fold_token(token) for token in _TOKEN.findall(entry.real_name)]
    if not found:
        return []
    variants = [(tuple(found), 0)]
    core = list(found)
    while len(core) > 1 and core[-1] in LEGAL_SUFFIXES:
        core.pop()
    if len(core) > 1 and core[0] == "the":
        core.pop(0)
    if len(core) < len(found):
        # One- or two-letter stubs ("AB" of "AB Ltd") are too weak to stand for the name on their own.
        if len("".join(core)) >= 3 or any(ord(c) > 0x2E7F for c in "".join(core)):
            variants.append((tuple(core), 1))
    if entry.kind == "person":
        runs = [tuple(core[i:j]) for i in range(len(core)) for j in range(i + 1, len(core) + 1)]
        # A run of a person's name counts when it holds a distinctive word at an end ("Al-Farsi", "Smith").
        variants.extend((run, 2) for run in runs if len(run) < len(core) and _has_distinctive_end(run))
    else:
        shorter = _distinctive_prefixes(core[:-1])
        variants.extend((tuple(core[:size]), 2) for size, distinctive in enumerate(shorter, start=1) if distinctive)
    return variants


def _has_distinctive_end(run: Sequence[str]) -> bool:
    return is_distinctive(run[:1]) or is_distinctive(run[-1:])


def find_real_names(text: str, scanner: NameScanner) -> list[str]:
    """Real names (as spelled in the ledger) that ``text`` contains, whole-word and case-insensitively."""
    found: dict[str, None] = {}
    for hit in scanner.find(text):
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


def check_payload(messages: Sequence[Mapping[str, Any]], scanner: NameScanner) -> None:
    """Raise PrivacyBlockedError if any real name of the project appears anywhere in the payload."""
    found = find_real_names(payload_text(messages), scanner)
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
    # A name without an alias stays as it is, so the send guard refuses it rather than it vanishing.
    return _replace_names(text, names, None)


def redact_text(text: str, names: NameScanner) -> str:
    """``text`` with every real name replaced by its alias, or by ``[REDACTED]`` where it has none."""
    return _replace_names(text, names, REDACTED)


def redact_messages(messages: Sequence[Mapping[str, Any]], names: NameScanner) -> list[dict[str, Any]]:
    """A copy of chat messages that can be stored and shown: every string redacted, each marked ``not_sent``."""
    return [{**redact_strings(dict(m), names), NOT_SENT_KEY: True} for m in messages]


def messages_were_sent(messages: Sequence[object]) -> bool:
    """False for stored messages marked ``not_sent`` by ``redact_messages`` (they never left the app)."""
    return not any(isinstance(m, Mapping) and m.get(NOT_SENT_KEY) for m in messages)


def redact_strings(value: Any, names: NameScanner) -> Any:
    """A copy of a nested structure with every string redacted (see ``redact_text``)."""
    return _map_strings(value, lambda text: redact_text(text, names))


def _replace_names(text: str, names: NameScanner, fallback: str | None) -> str:
    hits = names.find(text)
    if not hits:
        return text
    pieces, position = [], 0
    for hit in hits:
        pieces.extend([text[position : hit.start], hit.entries[0].alias or fallback or hit.text])
        position = hit.end
    pieces.append(text[position:])
    return "".join(pieces)


def alias_strings(value: T, names: NameScanner) -> T:
    """A copy of a nested structure (dataclasses, dicts, lists, tuples) with every string, keys included, aliased."""
    return _map_strings(value, lambda text: alias_text(text, names))  # type: ignore[no-any-return]


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {f.name: _map_strings(getattr(value, f.name), change) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changed)
    if isinstance(value, Mapping):
        return {_map_strings(k, change): _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_map_strings(v, change) for v in value)
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
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
