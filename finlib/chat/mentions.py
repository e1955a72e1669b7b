"""Resolving which customers and people a question mentions: exact, case-insensitive and fuzzy, with ambiguity.

Two passes over the question, never over the names one by one:
1. exact: the project's ``NameScanner`` (one dictionary probe per token and run length) finds every variant
   of a name the send guard knows: whole names, names without their legal suffix, a customer's leading words
   ("3M" for "3M Gulf", "AlNoor" for "Al Noor Builders"), the distinctive parts of a person's name ("Smith"),
   whatever the case, accents, punctuation, ``&``/``and``/``+`` or spacing;
2. fuzzy: the question's few word runs (n-grams) that the exact pass left are scored against every name at once
   with ``rapidfuzz.process.cdist`` (C, multi-threaded), so 20,000 names cost milliseconds.
Where names nest (``ABC`` and ``ABC Holdings``) the longest match wins. A mention is ambiguous when several
entries fit it equally well; its ``candidates`` list them, best first.

A generic common word written in lower case ("next" where a customer is called "Next"; see ``privacy``) is
a mention too, ambiguous between the customer and the ordinary word (a ``WORD_KIND`` candidate). The Chat page
asks which is meant; without an answer the customer is assumed, so the word goes out as an alias: nothing is
sent silently that could be the name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import fuzz, process

from finlib.privacy.scanner import COMMON_WORDS, NameEntry, NameHit, NameScanner

FUZZY_MIN_SCORE = 88.0
FUZZY_MIN_SCORE_ONE_WORD = 90.0
FUZZY_MIN_CHARS = 4
FUZZY_ONE_WORD_MIN_CHARS = 5
FUZZY_TIE_MARGIN = 2.0
MAX_NGRAM_TOKENS = 6
EDGE_MIN_SCORE = 75.0
SHORTENED_SCORE = 95.0
PLAIN_WORD_SCORE = 90.0
WORD_KIND = "word"
# A capitalised phrase right after a word that introduces a customer ("for", "of", "does", ...).
_NAMED_AFTER_CUE = re.compile(
    r"\b(?:for|of|from|by|with|about|does|did|will|is|has|owes?|customer|client)\s+"
    r"([A-Z0-9][\w&'.-]*(?:[ ]+(?:&[ ]+|and[ ]+)?[A-Z0-9][\w&'.-]*)*)"
)
# Capitalised words that are not names: question words, measures, months, days.
_NOT_NAME_WORDS = frozenset(
    "i we you a an the this that all any every each our my what when who which how why where dso vat kpi kpis "
    "q1 q2 q3 q4 ytd net total overview customers january february march april may june july august september "
    "october november december monday tuesday wednesday thursday friday saturday sunday".split()
)


def plain_word_entry(text: str) -> NameEntry:
    """The candidate that stands for ``text`` read as an ordinary word, not a name (kind ``WORD_KIND``, no alias)."""
    return NameEntry(WORD_KIND, f"“{text}” as an ordinary word", text.casefold(), "")


@dataclass(frozen=True)
class Mention:
    """A span of the question naming ``entry`` (the best candidate); ``candidates`` holds every close fit.

    ``size`` is the number of words the span covers; ``score`` is 100 for a whole name, 95 for a shortened one
    (no legal suffix, leading words, part of a person's name), 90 for a generic word in lower case, and the
    rapidfuzz ratio for a fuzzy match.
    """

    start: int
    end: int
    text: str
    entry: NameEntry
    score: float
    candidates: tuple[NameEntry, ...]
    size: int = 1

    @property
    def ambiguous(self) -> bool:
        """True when more than one customer or person fits this span equally well."""
        return len({(c.kind, c.alias) for c in self.candidates}) > 1

    def choose(self, entry: NameEntry) -> Mention:
        """This mention resolved to ``entry`` (the user's pick among the candidates)."""
        return replace(self, entry=entry, candidates=(entry,))


class MentionResolver:
    """Finds mentions of one project's names in questions; build once per project and reuse."""

    def __init__(self, scanner: NameScanner) -> None:
        self.scanner = scanner
        self._choices: list[str] = []
        self._choice_entries: list[tuple[NameEntry, ...]] = []
        for words, entries, _, generic in self.scanner.variants():
            # Generic common words are never guessed at: the exact pass asks about them.
            if words and not generic:
                self._choices.append(words)
                self._choice_entries.append(entries)

    def resolve(self, question: str) -> list[Mention]:
        """Mentions in ``question``, in order of position, non-overlapping, longest first where they nest."""
        candidates = [self._from_hit(hit) for hit in self.scanner.scan(question, plain_words=True)]
        candidates.extend(self._fuzzy(question))
        chosen: list[Mention] = []
        for mention in sorted(candidates, key=lambda m: (-m.size, -m.score, m.start)):
            if all(mention.end <= c.start or mention.start >= c.end for c in chosen):
                chosen.append(mention)
        return sorted(chosen, key=lambda m: m.start)

    def _fuzzy(self, question: str) -> list[Mention]:
        if not self._choices:
            return []
        grams = _ngrams(question, self.scanner.tokens(question))
        if not grams:
            return []
        scores = process.cdist(
            [g.text for g in grams],
            self._choices,
            scorer=fuzz.ratio,
            score_cutoff=FUZZY_MIN_SCORE,
            dtype=np.uint8,
            workers=-1,
        )
        found = []
        for row, gram in enumerate(grams):
            floor = FUZZY_MIN_SCORE_ONE_WORD if gram.size == 1 else FUZZY_MIN_SCORE
            columns = [c for c in np.flatnonzero(scores[row] >= floor) if _edges_in_name(gram, self._choices[c])]
            if not columns:
                continue
            ranked = sorted(columns, key=lambda c: -int(scores[row, c]))
            best = float(scores[row, ranked[0]])
            candidates: list[NameEntry] = []
            for column in ranked:
                if best - float(scores[row, column]) > FUZZY_TIE_MARGIN:
                    break
                candidates.extend(e for e in self._choice_entries[column] if e not in candidates)
            text = question[gram.start : gram.end]
            found.append(Mention(gram.start, gram.end, text, candidates[0], best, tuple(candidates), gram.size))
        return found

    def _from_hit(self, hit: NameHit) -> Mention:
        size = len(self.scanner.tokens(hit.text))
        if hit.plain_word:
            candidates = (*hit.entries, plain_word_entry(hit.text))
            return Mention(hit.start, hit.end, hit.text, hit.entries[0], PLAIN_WORD_SCORE, candidates, size)
        score = 100.0 if hit.full else SHORTENED_SCORE
        return Mention(hit.start, hit.end, hit.text, hit.entries[0], score, hit.entries, size)


@dataclass(frozen=True)
class _Gram:
    start: int
    end: int
    text: str
    words: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.words)


def _edges_in_name(gram: _Gram, name: str) -> bool:
    """True when the run starts and ends with words of the name, so "of ABC Ltd and" never stands for "ABC Ltd"."""
    words = name.split(" ")
    return all(max(fuzz.ratio(edge, w) for w in words) >= EDGE_MIN_SCORE for edge in {gram.words[0], gram.words[-1]})


def _ngrams(question: str, tokens: Sequence[tuple[int, int, str]]) -> list[_Gram]:
    """Runs of up to MAX_NGRAM_TOKENS adjacent tokens worth comparing with names."""
    grams = []
    for i in range(len(tokens)):
        for size in range(1, MAX_NGRAM_TOKENS + 1):
            run = tokens[i : i + size]
            if len(run) < size or _gap_between(question, run):
                break
            words = tuple(t[2] for t in run)
            if all(w in COMMON_WORDS or w.isdigit() for w in words):
                continue
            minimum = FUZZY_ONE_WORD_MIN_CHARS if size == 1 else FUZZY_MIN_CHARS
            if len(" ".join(words)) >= minimum:
                grams.append(_Gram(run[0][0], run[-1][1], " ".join(words), words))
    return grams


def _gap_between(question: str, run: Sequence[tuple[int, int, str]]) -> bool:
    """True when a name cannot span these tokens: a sentence or clause break, or a removed mention, lies between."""
    if len(run) < 2:
        return False
    between = question[run[-2][1] : run[-1][0]]
    return any(c in between for c in ",;:?!\n") or len(between) > 3


def resolve_mentions(question: str, names: MentionResolver | NameScanner) -> list[Mention]:
    """Mentions of customers and people in ``question`` (build a MentionResolver to reuse across questions)."""
    resolver = names if isinstance(names, MentionResolver) else MentionResolver(names)
    return resolver.resolve(question)


def alias_question(question: str, mentions: Sequence[Mention]) -> str:
    """``question`` with every mention replaced by its entry's alias (a word the user confirmed stays as it is)."""
    text = question
    for mention in sorted(mentions, key=lambda m: m.start, reverse=True):
        if mention.entry.kind == WORD_KIND:
            continue
        text = text[: mention.start] + (mention.entry.alias or mention.text) + text[mention.end :]
    return text


def unknown_names(question: str, mentions: Sequence[Mention], known_words: Iterable[str] = ()) -> list[str]:
    """Capitalised names the question gives a customer's place to ("for Foobar Ltd") that match nobody here.

    ``known_words`` are other values a capitalised word may be (locations, service types), folded.
    """
    known = {word.casefold() for word in known_words}
    taken = [(m.start, m.end) for m in mentions]
    found: list[str] = []
    for match in _NAMED_AFTER_CUE.finditer(question):
        phrase = match.group(1).rstrip(".'-")
        start, end = match.start(1), match.start(1) + len(phrase)
        words = [word.casefold() for word in re.findall(r"[\w&'-]+", phrase)]
        if any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
            continue
        if all(word in _NOT_NAME_WORDS or word.isdigit() for word in words) or phrase.casefold() in known:
            continue
        if phrase not in found:
            found.append(phrase)
    return found
