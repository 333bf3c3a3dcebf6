"""Degenerate inputs give finite numbers in every output (no NaN, no infinity), or a one-line
error: duplicate documents, K equal to the number of documents, a one-term vocabulary, one
token repeated a million times, empty rows, ratings all equal."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from topicmf import LSA, NMF, PLSA
from topicmf.cli import main
from topicmf.complete import BiasedMF, ratings_from_triples

MODELS = ["lsa", "nmf", "plsa"]


def _refuse_constant(name):
    raise AssertionError(f"{name} in a JSON output")


def assert_outputs_finite(out: Path) -> None:
    """Every JSON and CSV file the run wrote holds finite numbers only."""
    files = list(out.rglob("*.json")) + list(out.rglob("*.csv"))
    assert files
    for path in files:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    try:
                        value = float(cell)
                    except ValueError:
                        continue
                    assert math.isfinite(value), (path, row)


def write_corpus(folder: Path, texts: list[str]) -> Path:
    folder.mkdir()
    for i, text in enumerate(texts):
        (folder / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    return folder


CASES = {
    "duplicate documents": ["stocks fell sharply today"] * 6,
    "one-term vocabulary": ["stocks"] * 5 + ["stocks stocks"] * 3,
    "one token a million times": ["stocks " * 1_000_000, "stocks bonds", "bonds fell",
                                  "voters bonds"],
    "K equal to the documents": ["stocks fell", "voters chose", "bonds rose", "stocks rose"],
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_degenerate_corpora_give_finite_outputs_or_one_line(case, model, tmp_path, capsys):
    texts = CASES[case]
    corpus = write_corpus(tmp_path / "corpus", texts)
    k = {"K equal to the documents": len(texts), "one-term vocabulary": 1}.get(case, 2)
    out = tmp_path / "out"
    status = main(["analyze", str(corpus), "--topics", str(k), "--model", model, "--min-df",
                   "1", "--max-df", "1.0", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert status == 0, err
    assert_outputs_finite(out)


@pytest.mark.parametrize("cls", [LSA, NMF, PLSA])
def test_empty_rows_and_columns_give_finite_factors(cls):
    X = sp.csr_matrix(np.array([[0, 0, 0, 0], [1, 2, 0, 0], [0, 0, 0, 0], [0, 3, 1, 0]],
                               dtype=float))
    model = cls(2, random_state=0)
    weights = model.fit_transform(X)
    assert np.isfinite(weights).all() and np.isfinite(model.components_).all()
    assert np.isfinite(model.transform(sp.csr_matrix((3, 4)))).all()
    assert np.isfinite(model.display_weights(weights)).all()


@pytest.mark.parametrize("solver", ["als", "sgd"])
def test_ratings_all_equal_give_that_rating(solver):
    users, items = np.meshgrid(np.arange(6), np.arange(5), indexing="ij")
    keep = (users + items) % 3 != 0
    data = ratings_from_triples(users[keep], items[keep], np.full(keep.sum(), 4.0))
    model = BiasedMF(2, solver=solver, random_state=0).fit(data)
    predictions = model.predict_matrix()
    assert np.isfinite(predictions).all()
    np.testing.assert_allclose(predictions, 4.0, atol=0.05)


def test_more_topics_than_terms_is_one_line_naming_the_flag(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "corpus", CASES["one-term vocabulary"])
    assert main(["analyze", str(corpus), "--topics", "2", "--min-df", "1", "--max-df", "1.0",
                 "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--topics 2 is larger than the number of terms" in err
    assert not (tmp_path / "out").exists()
