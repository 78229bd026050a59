"""QR images for orders (segno): PNG for phones, SVG for print and pages.

What an order's QR carries is its signed pickup token
(``pickup_tokens.py``, base45: alphanumeric mode); any text works.
"""

from __future__ import annotations

import io

import segno


def pickup_qr(code: str, *, image_format: str = "png", scale: int = 8) -> bytes:
    """``code`` at error level M: small enough to scan off a cracked phone
    screen under shop lighting."""
    qr = segno.make(code, error="m", micro=False)
    buffer = io.BytesIO()
    if image_format == "svg":
        qr.save(buffer, kind="svg", scale=scale, border=2)
    else:
        qr.save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def pickup_qr_inline_svg(code: str, *, scale: int = 4) -> str:
    """The same QR as an ``<svg>`` element to put inside a page: no XML
    declaration, no fixed size (the page's style sheet sizes it from its
    viewBox), black modules as one path, no style attribute (the pages'
    CSP allows no inline style)."""
    qr = segno.make(code, error="m", micro=False)
    svg: str = qr.svg_inline(scale=scale, border=2, omitsize=True, svgclass="qr-code")
    return svg
