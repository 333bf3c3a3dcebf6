"""examples/notebook.ipynb runs from top to bottom in a real Jupyter kernel and shows its tables
and the report."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from topicmf import analyze, load_corpus
from topicmf.pipeline import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"


def html_outputs(cell) -> str:
    return "\n".join(output.get("data", {}).get("text/html", "") for output in cell.outputs)


def test_the_example_notebook_runs_and_shows_the_table_and_the_report(tmp_path, monkeypatch):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells), "commit it without outputs"
    # A kernel that runs this Python, whatever kernels the machine has installed: JUPYTER_PATH
    # comes first where Jupyter looks for kernels.
    write_kernel_spec(tmp_path / "kernels" / "topicmf-test")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert KernelSpecManager().get_kernel_spec("topicmf-test").argv[0] == sys.executable
    NotebookClient(notebook, kernel_name="topicmf-test", timeout=60,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()

    cells = {cell.id: cell for cell in notebook.cells}
    expected = analyze(load_corpus(ROOT / "corpora" / "finance-politics-en"), 2, random_state=0)
    table = html_outputs(cells["fit"])
    assert "finance-politics-en: 80 documents" in table and f"{DEFAULTS['model'].upper()} with 2 topics" in table
    for terms in expected.topics:
        term, weight = terms[0]
        assert f"{term} {weight:.3g}" in table
    report = html_outputs(cells["report"])
    assert report.startswith("<iframe") and 'sandbox="allow-scripts"' in report
    assert "srcdoc=\"&lt;!DOCTYPE html&gt;" in report
    topics = html_outputs(cells["topics"])
    assert "<table" in topics and f"<td>{expected.topics[0][0][0]}</td>" in topics
    by_label = html_outputs(cells["doc-topics"])
    assert "finance" in by_label and "topic_1" in by_label
