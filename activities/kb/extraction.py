"""Text out of an uploaded file: plain text, Markdown, HTML or PDF (chosen by extension).

`on_progress(done, total)` is called as pages (PDF) or the whole file (others) are read.
"""

from __future__ import annotations

import asyncio
import io
import re
from html.parser import HTMLParser
from pathlib import PurePath
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from flowmaestro.flows.kb.errors import KbError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    Progress = Callable[[int, int], Awaitable[None]]

_TEXT_SUFFIXES = {".txt", ".text", ".csv", ".json", ".log", ".rst", ""}
_SKIPPED_TAGS = {"script", "style", "head", "template", "noscript"}
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "section",
    "article",
    "table",
    "blockquote",
}


async def extract_text(file_name: str, content: bytes, on_progress: Progress) -> str:
    """The document's text, whitespace-normalised; KbError (step extraction) otherwise."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in _TEXT_SUFFIXES | {".pdf", ".md", ".markdown", ".html", ".htm"}:
        raise KbError(
            f"{file_name}: unsupported file type {suffix!r} (text, Markdown, HTML or PDF)",
            step="extraction",
            type="unsupported_type",
        )
    if suffix == ".pdf":
        text = await _pdf(file_name, content, on_progress)
    else:
        decoded = _decode(file_name, content)
        if suffix in (".md", ".markdown"):
            text = _html(MarkdownIt().render(decoded))
        elif suffix in (".html", ".htm"):
            text = _html(decoded)
        else:
            text = decoded
        await on_progress(1, 1)
    text = _normalise(text)
    if not text:
        raise KbError(
            f"{file_name}: the document has no text", step="extraction", type="empty_document"
        )
    return text


def _decode(file_name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KbError(
            f"{file_name}: not UTF-8 text (byte {exc.start}): {exc.reason}",
            step="extraction",
            type="unreadable",
        ) from exc


async def _pdf(file_name: str, content: bytes, on_progress: Progress) -> str:
    # PyPdfError covers its own limits (LimitReachedError) as well as a broken file.
    # Parsing is CPU work: threads keep the worker's event loop (heartbeats, other
    # activities) responsive while a large PDF is read.
    try:
        reader = await asyncio.to_thread(PdfReader, io.BytesIO(content), strict=False)
        pages = list(reader.pages)
        texts: list[str] = []
        for i, page in enumerate(pages):
            texts.append(await asyncio.to_thread(page.extract_text) or "")
            await on_progress(i + 1, len(pages))
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise KbError(
            f"{file_name}: unreadable PDF: {exc}", step="extraction", type="unreadable_pdf"
        ) from exc
    return "\n\n".join(texts)


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html(markup: str) -> str:
    parser = _TextOf()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def _normalise(text: str) -> str:
    """Runs of spaces become one; paragraphs (blank-line separated) are kept."""
    paragraphs = (re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)
