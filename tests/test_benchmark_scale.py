"""benchmarks/scale.py --quick: every row runs, the table prints and the JSON holds the rows."""

import json
import subprocess
import sys

from conftest import ROOT, SHARED_CORPORA

SCRIPT = ROOT / "benchmarks" / "scale.py"
MODELS = ("nmf_fro", "nmf_kl", "plsa", "lsa")
SIZES = ("1x", "4x", "16x")


def test_quick_run_prints_the_table_and_stores_every_row(tmp_path):
    results = tmp_path / "results.json"
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--work", str(tmp_path / "work"),
         "--corpora", str(SHARED_CORPORA), "--results", str(results)],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(results.read_text())
    rows = data["rows"]
    assert not [key for key in rows if key.startswith("failed")], out.stderr[-3000:]

    expected = ["cold 1x nmf_fro shards", "capped"]
    expected += [f"build {size}" for size in SIZES]
    expected += [f"fit {size} {model} {engine}" for size in SIZES for model in MODELS
                 for engine in ("shards", "memory", "memory-blocks")]
    expected += [f"fit {size} {model} shards" for size in SIZES
                 for model in ("gensim_lsi", "gensim_nmf")]
    # Dask is a test requirement: its rows must be there, never skipped.
    expected += ["fit 16x nmf_fro dask-1", "fit 16x nmf_fro dask-2", "dask costs 1",
                 "dask costs 2", "dask profile 2"]
    missing = [key for key in expected if key not in rows]
    assert not missing, missing
    for key in expected:
        row = rows[key]
        if key.startswith(("fit", "cold")):
            assert row["fit_s"] > 0 and row["peak_mb"] > 0 and row["nnz"] > 0, key
    for size in SIZES:
        assert rows[f"build {size}"]["disk_mb"] > 0
        assert data["corpora"][size]["tokens_kept"] == 1.0
    capped = rows["capped"]
    assert capped["cap_mb"] > 0 and capped["disk_mb"] > 0 and capped["n_iter"] == 3
    assert "cgroup" in capped

    # The table: one line per size and engine, then the summary lines.
    table = [line for line in out.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| size | engine | docs | nnz |")
    for size in SIZES:
        for engine in ("shards", "memory", "memory-blocks", "gensim"):
            assert any(line.startswith(f"| {size} | {engine}") for line in table), (size, engine)
    assert any("dask, 2 workers" in line for line in table)
    assert "Slope of log(fit s) on log(nnz)" in out.stdout
    assert "Memory cap:" in out.stdout
    assert sum(line.startswith("Target ") for line in out.stdout.splitlines()) >= 4
