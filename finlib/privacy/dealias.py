"""Turning a model's answer into what the user sees: Markdown links and images neutralised, aliases made real names.

Order matters: links and images are neutralised *before* aliases become names, so a model cannot build an image
URL that would send real names to a third party when the browser loads it. Raw HTML is never rendered (``<`` and
``>`` are escaped), and bare URLs are shown as code, not as links. Aliases are found and looked up as
``privacy.aliasing`` defines them (any letter case, Crockford's look-alikes), so a model that changes an alias's
case cannot break it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from finlib.privacy.aliasing import ALIAS_PATTERN, AliasLookup, partial_alias_pattern

_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(([^)\n]*)\)")
_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\n]*)\)")
_BARE_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s`<>]+", re.IGNORECASE)
_OPEN_LINK_AT_END = re.compile(r"!?\[[^\]\n]*(?:\](?:\([^)\n]*)?)?$")
_ALIAS_PREFIX_AT_END = partial_alias_pattern()
_TRAILING_WORD = re.compile(r"\S*$")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]!|~#])")
MAX_HOLD_CHARS = 2000


def escape_markdown(text: str) -> str:
    """``text`` made inert as Markdown: special characters backslash-escaped, angle brackets as entities."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return escaped.replace("<", "&lt;").replace(">", "&gt;")


def dealias(text: str, lookup: AliasLookup, *, markdown: bool = False) -> str:
    """``text`` with every known alias replaced by its real name (escaped for Markdown when ``markdown``)."""

    def replace(match: re.Match[str]) -> str:
        real = lookup.real_for(match.group())
        if real is None:
            return match.group()
        return escape_markdown(real) if markdown else real

    return ALIAS_PATTERN.sub(replace, text)


def unknown_aliases(text: str, lookup: AliasLookup) -> list[str]:
    """Alias-shaped strings in ``text`` that name nobody in the book (a model that made one up)."""
    return [m.group() for m in ALIAS_PATTERN.finditer(text) if lookup.real_for(m.group()) is None]


def neutralise_markdown(text: str) -> str:
    """Links and images become their text, bare URLs become code, and no HTML or leftover link syntax remains."""
    text = _IMAGE.sub(lambda m: _plain(m.group(1)) or "image", text)
    text = _LINK.sub(lambda m: _plain(m.group(1)), text)
    text = _BARE_URL.sub(lambda m: "`" + m.group() + "`", text)
    # Whatever bracket is left could still start a reference link; escaped, it is only text.
    text = text.replace("[", "\\[").replace("]", "\\]")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _plain(label: str) -> str:
    return _IMAGE.sub(lambda m: m.group(1), label).strip()


def render_answer(text: str, lookup: AliasLookup) -> str:
    """The model's whole answer as shown to the user: neutralised Markdown, then real names."""
    return dealias(neutralise_markdown(text), lookup, markdown=True)


class StreamingDealiaser:
    """``render_answer`` over a stream of chunks: holds back a possible partial alias or link at each chunk end.

    Text is released up to the start of its last word (an alias never contains a space) or of a link that is not
    closed yet, whichever comes first; ``finish`` releases the rest. The joined output equals ``render_answer``
    of the joined input.
    """

    def __init__(self, lookup: AliasLookup, *, markdown: bool = True) -> None:
        self._lookup = lookup
        self._markdown = markdown
        self._buffer = ""

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the text that is now safe to show."""
        self._buffer += chunk
        cut = self._safe_cut(self._buffer)
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self._render(ready)

    def finish(self) -> str:
        """Return everything still held back (call once, at the end of the stream)."""
        ready, self._buffer = self._buffer, ""
        return self._render(ready)

    def stream(self, chunks: Iterable[str]) -> Iterator[str]:
        """Rendered text for a whole stream of chunks, empty pieces skipped."""
        for chunk in chunks:
            piece = self.feed(chunk)
            if piece:
                yield piece
        rest = self.finish()
        if rest:
            yield rest

    def _render(self, text: str) -> str:
        if not text:
            return ""
        if self._markdown:
            return dealias(neutralise_markdown(text), self._lookup, markdown=True)
        return dealias(text, self._lookup)

    def _safe_cut(self, buffer: str) -> int:
        word = _TRAILING_WORD.search(buffer)
        cut = word.start() if word else len(buffer)
        if self._markdown:
            link = _OPEN_LINK_AT_END.search(buffer)
            if link:
                cut = min(cut, link.start())
        if len(buffer) - cut > MAX_HOLD_CHARS:
            # A very long unbroken run is released, except a trailing piece that may still become an alias.
            alias = _ALIAS_PREFIX_AT_END.search(buffer)
            cut = alias.start() if alias else len(buffer)
        return cut
