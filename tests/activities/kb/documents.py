"""Real documents for ingestion tests: a PDF generated with fpdf2, Markdown and HTML."""

from __future__ import annotations

from fpdf import FPDF

PHRASE = "the refund window is thirty days"


def pdf_bytes(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def filler(topic: str, sentences: int) -> str:
    return " ".join(
        f"Section {i} about {topic} explains procedure number {i} in plain words."
        for i in range(sentences)
    )


MARKDOWN = f"""# Handbook

## Shipping

{filler("shipping", 30)}

## Refunds

- Customers may return goods: {PHRASE} from delivery.
- *Opened* items are **accepted**.

{filler("warranty", 30)}
"""

HTML = f"""<!doctype html><html><head><title>Policies</title><style>p {{ color: red }}</style>
<script>var secret = "not text";</script></head>
<body><h1>Policies</h1><p>{filler("returns", 20)}</p>
<p>Our rule: {PHRASE}, no questions asked &amp; no fees.</p>
<div>{filler("support", 20)}</div></body></html>
"""
