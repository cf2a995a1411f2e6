"""Derive the compact test fixtures from the seed tool's reference files (run by hand).

    python3 tests/data/make_fixtures.py [REFERENCE_DIR]

REFERENCE_DIR holds `public_cases.json` and `oracles.json` (default: ../shared/reference next to the
repository). The fixtures keep what the tests check, so a clone without the reference files can run them:

* `public_cases.json`: per case the layer (op, name, model-spec fields, loop extents), the arch (stored once
  per arch name), the tiling, the per-tiling minima, the min-EDP pair, and for every ordering pair its energy
  (rounded and unrounded), cycles, EDP, energy breakdown and reuse vectors.
* `oracles.json`: per layer and arch the exhaustive optimum of each objective (value and winning tiling), the
  number of valid tilings, and what the seed's `--auto-optimize` reached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_REFERENCE = HERE.parents[2] / "shared" / "reference"
LEVELS = ("DRAM", "SPM", "RF", "SPATIAL")
PAIR_KEYS = ("energy_pJ", "energy_unrounded_pJ", "cycles", "edp", "energy_breakdown", "reuse_DRAM", "reuse_SPM")


def compact_layer(layer: dict) -> dict:
    return {
        "op": layer["op"],
        "name": layer["name"],
        "model_json": layer["model_json"],
        "loop_extents": layer["loop_extents"],
    }


def compact_case(case: dict) -> dict:
    results = case["results"]
    best = results["min_edp_pair"]
    return {
        "case_id": case["case_id"],
        "layer": compact_layer(case["layer"]),
        "arch_name": case["arch_name"],
        "tiling": {level: case["tiling"][level] for level in LEVELS},
        "min_energy_pJ": results["min_energy_pJ"],
        "min_cycles": results["min_cycles"],
        "min_edp": results["min_edp"],
        "min_edp_pair": {
            "DRAM_ordering": best["DRAM_ordering"],
            "SPM_ordering": best["SPM_ordering"],
            "energy_pJ": best["energy_pJ"],
            "cycles": best["cycles"],
            "edp": best["edp"],
            "energy_breakdown": best["energy_breakdown"],
        },
        "per_ordering_pair": [{key: pair[key] for key in PAIR_KEYS} for pair in results["per_ordering_pair"]],
    }


def compact_best(best: dict) -> dict:
    return {"value": best["value"], "tiling": {level: best["tiling"][level] for level in LEVELS}}


def compact_oracle(oracle: dict) -> dict:
    brute = oracle["brute_force"]
    auto = oracle["auto_optimize"]
    objectives = ("edp", "energy", "cycles")
    return {
        "uid": oracle["uid"],
        "layer": compact_layer(oracle["layer"]),
        "arch_name": oracle["arch_name"],
        "n_tilings_evaluated": brute["n_tilings_evaluated"],
        "best": {obj: compact_best(brute["result"][f"best_{obj}"]) for obj in objectives},
        "auto_optimize": {
            "n_tilings_evaluated_reported": auto["n_tilings_evaluated_reported"],
            "n_tilings_evaluated_all_steps": auto["n_tilings_evaluated_all_steps"],
            "final_params": auto["final_params"],
            "best": {obj: auto["result"][f"best_{obj}"]["value"] for obj in objectives},
        },
    }


def collect_archs(entries: list[dict]) -> dict[str, dict]:
    """Each arch once, by name; the reference must use one spec per name."""
    archs: dict[str, dict] = {}
    for entry in entries:
        known = archs.setdefault(entry["arch_name"], entry["arch"])
        if known != entry["arch"]:
            raise SystemExit(f"arch {entry['arch_name']!r} has two different specs in the reference")
    return archs


def write(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main(argv: list[str]) -> None:
    reference = Path(argv[0]) if argv else DEFAULT_REFERENCE
    cases = json.loads((reference / "public_cases.json").read_text())["cases"]
    write(
        HERE / "public_cases.json",
        {
            "source": "derived from public_cases.json of the seed tool (make_fixtures.py)",
            "archs": collect_archs(cases),
            "cases": [compact_case(case) for case in cases],
        },
    )
    oracles = json.loads((reference / "oracles.json").read_text())["oracles"]
    write(
        HERE / "oracles.json",
        {
            "source": "derived from oracles.json of the seed tool (make_fixtures.py)",
            "archs": collect_archs(oracles),
            "oracles": [compact_oracle(oracle) for oracle in oracles],
        },
    )


if __name__ == "__main__":
    main(sys.argv[1:])
