from pathlib import Path

import pytest
from django.utils import translation

from workflows.documents import SourceFile

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "bpmn"
TEST_BPMN_DIR = Path(__file__).resolve().parent / "workflows" / "bpmn"
CONFORMANCE_DIR = ROOT.parent / "shared" / "conformance" / "bpmn"


def source(path: Path | str, name: str | None = None) -> SourceFile:
    path = Path(path)
    return SourceFile(name or path.name, path.read_bytes())


def text_source(name: str, text: str) -> SourceFile:
    return SourceFile(name, text.encode("utf-8"))


@pytest.fixture(autouse=True)
def english():
    # The suite asserts the English msgids; Chinese is covered by dedicated tests (test_translations.py).
    with translation.override("en"):
        yield
