"""The front-end files are the lock file's, committed, and nothing is fetched from elsewhere."""

import json
import re

from tests.conftest import ROOT

VENDOR = ROOT / "static" / "vendor"


def test_the_vendored_files_are_the_versions_the_lock_file_pins():
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    declared = json.loads((ROOT / "package.json").read_text())["dependencies"]
    vendored = dict(line.split() for line in (VENDOR / "VERSIONS").read_text().splitlines())

    assert vendored == {name: lock[f"node_modules/{name}"]["version"] for name in declared}
    assert (VENDOR / "bootstrap" / "bootstrap.min.css").stat().st_size > 100_000
    assert (VENDOR / "htmx" / "htmx.min.js").stat().st_size > 10_000


def test_no_page_loads_anything_from_another_host():
    outside = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if outside.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_template_has_inline_script_or_style():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle\s*=|\son[a-z]+\s*=|<style", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if path.parts[-2] != "admin" and inline.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
