"""The offline shell's cache name (``web.earn_pages.shell_version``): any
change to a static file renames it, so phones drop their cache-first copies."""

from __future__ import annotations

from pathlib import Path

from web.earn_pages import shell_version


def test_the_shell_cache_is_renamed_when_any_static_file_changes(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "pages.css").write_text("body { font-size: 18px; }")
    (tmp_path / "vendor" / "htmx.min.js").write_text("htmx")
    first = shell_version(tmp_path)
    assert first == shell_version(tmp_path) and first.startswith("fengling-shell-")
    (tmp_path / "pages.css").write_text("body { font-size: 20px; }")
    restyled = shell_version(tmp_path)
    assert restyled != first
    (tmp_path / "vendor" / "htmx.min.js").write_text("htmx 2")
    assert shell_version(tmp_path) not in {first, restyled}
