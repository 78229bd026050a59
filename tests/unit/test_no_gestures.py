"""Elder mode needs no gestures (issue #13): every action on the pages is a
tap on a labelled control. The pages' own scripts listen for no touch,
swipe or pointer-movement event, and no template binds one, so nothing
can be reached only by swiping, long-pressing or pinching."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
GESTURE = re.compile(
    r"""(addEventListener\(\s*["'](touch\w+|pointer(move|down|up)|gesture\w+|wheel|contextmenu)["']"""
    r"""|\bon(touch\w+|pointer(move|down|up)|gesture\w+|contextmenu)\s*=|hx-trigger="[^"]*(touch|swipe|pointer))""",
    re.IGNORECASE,
)


def _sources() -> list[Path]:
    scripts = list((WEB / "static").glob("*.js"))
    templates = list((WEB / "templates").glob("*.html"))
    return sorted(scripts + templates)


@pytest.mark.parametrize("source", _sources(), ids=lambda path: path.name)
def test_no_page_script_or_template_needs_a_gesture(source: Path) -> None:
    found = [match.group(0) for match in GESTURE.finditer(source.read_text(encoding="utf-8"))]
    assert found == [], f"{source.name} listens for a gesture: {found}"


def test_the_gesture_check_sees_a_swipe_handler() -> None:
    """The pattern itself: a swipe handler written the usual ways is caught."""
    for sample in (
        'el.addEventListener("touchstart", go)',
        "el.addEventListener('pointermove', drag)",
        '<div ontouchend="next()">',
        '<div hx-trigger="swipe">',
    ):
        assert GESTURE.search(sample), sample
    assert not GESTURE.search('button.addEventListener("click", send)')
