"""Every reference in the code, the `--help` texts and the docs resolves inside the clone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*ROOT.glob("dmz_solver/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("bench/*.py"), ROOT / "cli.py"]
DOCS = [ROOT / "README.md", *ROOT.glob("docs/*.md"), ROOT / "bench" / "README.md"]
SECTION = re.compile(r"§(\d+(?:\.\d+[a-z]?)?)")


def cost_model_sections() -> set[str]:
    text = (ROOT / "docs" / "cost-model.md").read_text()
    return set(re.findall(r"^#+\s*(\d+(?:\.\d+[a-z]?)?)[\s.]", text, re.M))


def test_cited_docs_exist() -> None:
    missing = []
    for path in SOURCES + DOCS:
        for doc in re.findall(r"docs/[\w-]+\.md", path.read_text()):
            if not (ROOT / doc).exists():
                missing.append(f"{path.relative_to(ROOT)}: {doc}")
    assert missing == []


def test_no_file_outside_the_clone_is_cited() -> None:
    pattern = re.compile("interfaces" + r"\.md|\.\./shared/")  # split so that this file does not match itself
    outside = [str(p.relative_to(ROOT)) for p in SOURCES + DOCS if pattern.search(p.read_text())]
    assert outside == []


def test_cited_sections_exist_in_the_cost_model() -> None:
    """The code cites the cost model by section (§5.7); each one is a heading of docs/cost-model.md."""
    sections = cost_model_sections()
    cited = {s for path in SOURCES for s in SECTION.findall(path.read_text())}
    assert len(sections) > 40 and cited - sections == set()


def test_markdown_links_resolve() -> None:
    broken = []
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if not target.startswith(("http://", "https://", "mailto:")) and not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == []


def test_cited_source_files_exist() -> None:
    """Paths such as `search/bnb.py` or `dmz_solver/cost/terms.py` in code and docs name files of the clone."""
    cited = re.compile(r"(?<![\w/.])((?:[a-z_]+/)+[a-z_0-9]+\.py)\b")
    missing = []
    for path in SOURCES + DOCS:
        for name in cited.findall(path.read_text()):
            if not (ROOT / name).exists() and not (ROOT / "dmz_solver" / name).exists():
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert missing == []
