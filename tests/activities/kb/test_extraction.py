"""Extraction of text from PDF, Markdown, HTML and plain text, and its clear failures."""

from __future__ import annotations

import pytest

from flowmaestro.activities.kb.extraction import extract_text
from flowmaestro.flows.kb.errors import KbError
from tests.activities.kb.documents import HTML, MARKDOWN, PHRASE, pdf_bytes


class Progress:
    def __init__(self) -> None:
        self.reports: list[tuple[int, int]] = []

    async def __call__(self, done: int, total: int) -> None:
        self.reports.append((done, total))


async def test_pdf_pages_are_extracted_with_progress_per_page() -> None:
    progress = Progress()
    text = await extract_text(
        "policy.pdf", pdf_bytes(["Page one text.", f"Remember: {PHRASE}.", "Last page."]), progress
    )
    assert PHRASE in text
    assert text.index("Page one") < text.index(PHRASE) < text.index("Last page")
    assert progress.reports == [(1, 3), (2, 3), (3, 3)]


async def test_markdown_loses_its_markup() -> None:
    text = await extract_text("handbook.md", MARKDOWN.encode(), Progress())
    assert PHRASE in text
    assert "Opened items are accepted" in text
    assert "#" not in text and "**" not in text


async def test_html_keeps_text_not_scripts_or_styles() -> None:
    text = await extract_text("policies.html", HTML.encode(), Progress())
    assert PHRASE in text
    assert "no fees" in text and "&amp;" not in text
    assert "secret" not in text and "color" not in text


async def test_plain_text_is_normalised() -> None:
    assert await extract_text("a.txt", b"one   two\n\n\n\nthree", Progress()) == "one two\n\nthree"


@pytest.mark.parametrize(
    ("name", "content", "type"),
    [
        ("broken.pdf", b"%PDF-1.4\n1 0 obj garbage\n%%EOF", "unreadable_pdf"),
        ("not-a.pdf", b"hello, I am not a PDF", "unreadable_pdf"),
        ("empty.md", b"  \n\n# \n", "empty_document"),
        ("blank.pdf", pdf_bytes([""]), "empty_document"),
        ("latin1.txt", "café".encode("latin-1"), "unreadable"),
        ("photo.png", b"\x89PNG", "unsupported_type"),
    ],
)
async def test_failures_name_the_extraction_step(name: str, content: bytes, type: str) -> None:
    with pytest.raises(KbError) as caught:
        await extract_text(name, content, Progress())
    assert (caught.value.step, caught.value.type) == ("extraction", type)
    assert caught.value.message.startswith(f"{name}: ")
