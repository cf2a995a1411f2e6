"""Every reference in the code, the `--help` texts and the docs resolves inside the clone."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from dmz_solver.arch import load_arch
from dmz_solver.cli import main
from dmz_solver.solving import solve_layer
from dmz_solver.workload.loader import load_model

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


# ----------------------------------------------------------------------------------------------------------------------
# The examples in the docs run as shown

CONSOLE = re.compile(r"```console\n\$ python cli\.py (.*?)\n(.*?)```", re.S)
CLONE = "/path/to/clone"  # how the docs write the clone's directory in an output line


def console_examples(doc: str) -> list[tuple[list[str], list[str]]]:
    """(arguments, shown output lines) of each `$ python cli.py ...` block of a doc."""
    text = (ROOT / "docs" / doc).read_text()
    return [(shlex.split(command), shown.strip().splitlines()) for command, shown in CONSOLE.findall(text)]


def json_blocks(doc: str) -> list[object]:
    """The ```json blocks of a doc that are complete JSON (some elide parts with '...')."""
    blocks = []
    for block in re.findall(r"```json\n(.*?)```", (ROOT / "docs" / doc).read_text(), re.S):
        try:
            blocks.append(json.loads(block))
        except json.JSONDecodeError:
            continue
    return blocks


def test_no_developer_path_in_the_docs() -> None:
    """Output shown in the docs names no directory of the machine it was run on."""
    found = [
        f"{path.relative_to(ROOT)}: {hit}"
        for path in DOCS
        for hit in re.findall(r"(?:/work|/home|/Users|/root)/[\w./-]+", path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize("index", range(3))
def test_the_constraints_worked_example_prints_what_the_doc_shows(
    index: int, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/constraints.md, steps 3 to 5: every line shown (but '...') is printed, in that order."""
    examples = console_examples("constraints.md")
    assert len(examples) == 3
    argv, shown = examples[index]
    monkeypatch.chdir(ROOT)
    code = main([*argv, "--no-cache"])
    out, err = capsys.readouterr()
    printed = (out + err).splitlines()
    assert code == (2 if shown[-1].startswith("error:") else 0)
    position = 0
    for line in (s.replace(CLONE, str(ROOT)) for s in shown if s.strip() != "..."):
        assert line in printed[position:], line
        position = printed.index(line, position) + 1


def test_the_worked_example_arch_is_a_16_by_16_array() -> None:
    arch = load_arch(str(ROOT / "docs" / "examples" / "systolic16.json"))
    assert (arch.noc.rows, arch.noc.cols) == (16, 16)
    assert {role: arch.noc.network(role).kind for role in ("input", "weight", "output", "reduction")} == dict.fromkeys(
        ("input", "weight", "output", "reduction"), "systolic"
    )


def test_the_cli_docs_mapping_fits_tiny_gemm_and_no_other_layer(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """docs/cli.md: the example mapping gives the seed's optimum of tiny_gemm and is refused for another layer."""
    [mapping] = json_blocks("cli.md")
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping))
    out_json = tmp_path / "evaluation.json"
    assert (
        main(["evaluate", "--model", "tiny", "--layer", "tiny_gemm", "--mapping", str(path), "--json", str(out_json)])
        == 0
    )
    evaluation = json.loads(out_json.read_text())
    assert (evaluation["cycles"], evaluation["energy_pj"]) == (800, 446956)
    assert main(["evaluate", "--model", "tiny", "--layer", "tiny_conv1x1", "--mapping", str(path)]) == 2
    capsys.readouterr()


def test_the_formats_docs_mapping_fits_the_layer_it_names(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    mapping = next(b for b in json_blocks("formats.md") if isinstance(b, dict) and "tiling" in b)
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping))
    assert main(["evaluate", "--model", "resnet18", "--layer", "ResNet18_CONV_5_1b", "--mapping", str(path)]) == 0
    capsys.readouterr()


def test_energy_and_its_breakdown_differ_by_the_rounding_the_docs_describe() -> None:
    """docs/cost-model.md §6.5 and formats.md: energy_pj is the rounded total, within 0.5 pJ of the breakdown's sum."""
    result = solve_layer(load_model("tiny").layer("tiny_conv3x3"), load_arch("dmazerunner"), "edp")
    energy, parts = result.cost.energy_pj, sum(result.cost.breakdown_pj)
    assert (energy, round(parts, 2)) == (119986, 119985.68)
    for doc in ("cost-model.md", "formats.md"):
        assert "119985.68" in (ROOT / "docs" / doc).read_text()
