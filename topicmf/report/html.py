"""Render ``index.html`` from the report data of one or more runs.

The page is a single file: CSS, scripts, data and images inline, no network. Every text that
comes from documents goes through Jinja2's autoescaping in the HTML, and through ``tojson``
(which escapes ``<``, ``>``, ``&`` and ``'``) in the JSON block the scripts read, so a document
cannot close a tag or a script.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from jinja2 import Environment, FileSystemLoader

from .. import __version__
from ..errors import InvalidParameterError, ModelFileError, OutputError
from .data import FORMAT, FORMAT_VERSION
from .plots import PLOTS, colour_groups, coloured_by, palette, render_plots

__all__ = ["write_report", "render_report", "write_report_data", "load_report_data",
           "REPORT_FILE"]

REPORT_FILE = "report.json"
PAGE_FILE = "index.html"
SHOWN_TERMS = 10   # term bars per topic card


def write_report(runs: list[dict], out_dir, *, title: str | None = None) -> Path:
    """Write ``index.html`` (one tab per run when several, with a comparison of their
    metrics and aligned topics) and ``plots/`` (PNG and SVG) into ``out_dir``; return the
    page's path. ``runs`` are dicts made by :func:`report_data`."""
    runs = _check_runs(runs)
    out_dir = Path(out_dir)
    plots_dir = out_dir / "plots"
    try:
        plots_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {out_dir} ({exc.strerror or exc}); choose another "
                          f"output folder.") from None
    page = render_report(runs, plots_dir, title=title)
    path = out_dir / PAGE_FILE
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({exc.strerror or exc}); choose another "
                          f"output folder.") from None
    return path


def render_report(runs: list[dict], plots_dir, *, title: str | None = None,
                  plots_beside: bool = True) -> str:
    """The page of :func:`write_report` as a string (its plots inline); the PNG and SVG files
    of the plots are drawn into the existing folder ``plots_dir``. ``plots_beside`` says on
    the page that they are in ``plots/`` beside it."""
    runs = _check_runs(runs)
    slugs = _slugs([run["label"] for run in runs])
    views = []
    for index, (run, slug) in enumerate(zip(runs, slugs)):
        images = render_plots(run, Path(plots_dir), "" if len(runs) == 1 else f"{slug}-")
        views.append(_run_view(run, index, images))
    if title is None:
        name = runs[0].get("summary", {}).get("corpus", {}).get("name") or "corpus"
        title = f"Topics of {name}"
    return _environment().get_template("report.html.j2").render(
        title=title, runs=views, version=__version__, plot_titles=PLOTS,
        plots_beside=plots_beside, comparison=_comparison(runs) if len(runs) > 1 else None,
        page_data=[view["script_data"] for view in views])


def write_report_data(data: dict, folder) -> Path:
    """Save one run's report data as ``folder/report.json`` (for ``topicmf report``)."""
    path = Path(folder) / REPORT_FILE
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8")
    return path


def load_report_data(folder) -> list[dict]:
    """The saved report data in ``folder``: its ``report.json``, or else one from each
    subfolder (one per model of a multi-model run), in the order of their names."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError(f"{folder} is not a folder; give the output folder of "
                             f"'topicmf analyze'.")
    paths = ([folder / REPORT_FILE] if (folder / REPORT_FILE).is_file()
             else sorted(folder.glob(f"*/{REPORT_FILE}")))
    if not paths:
        raise ModelFileError(f"{folder} has no {REPORT_FILE}, nor has any of its subfolders; run "
                             f"'topicmf analyze' with --out {folder} first.")
    runs = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{path} is unreadable or truncated ({exc}); run "
                                 f"'topicmf analyze' again.") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelFileError(f"{path} is not a topicmf report data file.")
        if data.get("format_version") != FORMAT_VERSION:
            raise ModelFileError(f"{path} has format version {data.get('format_version')!r}; "
                                 f"this topicmf reads version {FORMAT_VERSION}: run "
                                 f"'topicmf analyze' again.")
        runs.append(data)
    return runs


# ---------------------------------------------------------------------------- views

def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "separators": (",", ":")}
    return env


def _check_runs(runs) -> list[dict]:
    runs = list(runs) if isinstance(runs, (list, tuple)) else None
    if not runs or not all(isinstance(r, dict) and r.get("format") == FORMAT for r in runs):
        raise InvalidParameterError("write_report needs a non-empty list of dicts made by "
                                    "report_data(result).")
    return runs


def _slugs(labels: list[str]) -> list[str]:
    """File-name-safe, unique versions of the run labels."""
    slugs = []
    for label in labels:
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-").lower() or "run"
        base, n = slug, 2
        while slug in slugs:
            slug, n = f"{base}-{n}", n + 1
        slugs.append(slug)
    return slugs


def _run_view(run: dict, index: int, images: dict) -> dict:
    """What the template needs for one run, beside the run's own data."""
    colours = palette(len(run["topics"]))
    codes, groups, group_colours = colour_groups(run)
    cards = []
    for topic in run["topics"]:
        shown = sorted(topic["terms"], key=lambda t: -t[1])[:SHOWN_TERMS]
        top = max((t[1] for t in topic["terms"]), default=1.0) or 1.0
        cards.append({**topic, "colour": colours[topic["topic"]],
                      "bars": [{"term": t, "pwt": p, "pw": q, "width": round(100 * p / top, 1)}
                               for t, p, q in shown]})
    doc_map = run["doc_map"]
    return {
        "index": index, "label": run["label"], "run": run, "cards": cards, "images": images,
        "summary": _summary_rows(run), "groups": list(zip(groups, group_colours)),
        "coloured_by": coloured_by(run),
        "script_data": {
            "topics": [{"terms": t["terms"], "colour": colours[t["topic"]]}
                       for t in run["topics"]],
            "shown": SHOWN_TERMS,
            "map": {"x": doc_map["x"], "y": doc_map["y"], "group": codes,
                    "colours": group_colours, "titles": doc_map["titles"],
                    "ids": doc_map["ids"], "topic": doc_map["topic"]},
        },
    }


def _summary_rows(run: dict) -> list[tuple[str, str]]:
    info = run.get("summary") or {}
    corpus, vocab, model = (info.get(key) or {} for key in ("corpus", "vocabulary", "model"))
    rows = []
    if corpus:
        labels = corpus.get("labels") or []
        rows += [
            ("Corpus", f"{corpus.get('name', '')} ({corpus.get('source', '')})"),
            ("Documents", f"{corpus.get('n_documents', 0):,} read, {corpus.get('n_fitted', 0):,} "
                          f"fitted, {corpus.get('n_excluded', 0):,} with no term left, "
                          f"{corpus.get('n_skipped_files', 0):,} files skipped"),
            ("Languages", _pairs(corpus.get("languages") or {})),
            ("Labels", f"{len(labels)}: " + ", ".join(map(str, labels[:12]))
             + (", ..." if len(labels) > 12 else "") if labels else "none"),
        ]
    if vocab:
        settings = {k: v for k, v in vocab.items() if k not in ("n_terms", "n_pruned", "nnz")}
        rows += [("Vocabulary", f"{vocab.get('n_terms', 0):,} terms, {vocab.get('n_pruned', 0):,} "
                                f"pruned, {vocab.get('nnz', 0):,} non-zeros"),
                 ("Pruning", _pairs(settings))]
    if model:
        params = model.get("params") or {}
        rows += [("Model", f"{str(model.get('name', '')).upper()}, {model.get('n_topics')} "
                           f"topics, fitted on {model.get('input', '')}"),
                 ("Settings", _pairs(params)),
                 ("Iterations", _convergence_text(model, params))]
    if info.get("timings_s"):
        rows.append(("Time (s)", _pairs(info["timings_s"])))
    versions = f"topicmf {info.get('library_version', '?')}, Python {info.get('python_version', '?')}"
    rows.append(("Made with", versions + (f", {info['created']}" if info.get("created") else "")))
    if run.get("command"):
        rows.append(("Command", run["command"]))
    return rows


def _convergence_text(model: dict, params: dict) -> str:
    n_iter, max_iter = model.get("n_iter"), params.get("max_iter")
    objective = model.get("objective")
    text = f"{n_iter}" if n_iter is not None else "?"
    if max_iter is None:
        text += " (direct solution)"
    elif n_iter is not None and n_iter >= max_iter:
        text += f" (stopped at max_iter={max_iter} before converging)"
    else:
        text += f" (converged; max_iter={max_iter})"
    return text + (f", final objective {objective:.6g}" if objective is not None else "")


def _pairs(mapping: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items())


# ---------------------------------------------------------------------------- comparison

def _comparison(runs: list[dict]) -> dict:
    """Metrics side by side, and each run's topics matched to the first run's."""
    from ..evaluate import match_topics, topic_diversity

    metrics = []
    for run in runs:
        model = run["summary"].get("model", {})
        labels = run.get("labels") or {}
        similarity = np.asarray(run["similarity"], dtype=float)
        k = len(similarity)
        off_diagonal = (similarity.sum() - np.trace(similarity)) / max(1, k * (k - 1))
        metrics.append({
            "topics": k, "iterations": model.get("n_iter"),
            "objective": model.get("objective"),
            "fit (s)": run["summary"].get("timings_s", {}).get("fit"),
            "topic diversity (top 25)": topic_diversity(
                [[t for t, _ in topic["top_terms"]] for topic in run["topics"]], topn=25),
            "mean topic similarity": float(off_diagonal),
            "purity": labels.get("purity"), "NMI": labels.get("nmi"), "ARI": labels.get("ari"),
        })
    names = list(metrics[0])
    table = [(name, [_number(m[name]) for m in metrics]) for name in names]

    reference = runs[0]
    aligned = [[f"{t['topic']}: {t['label']}"] for t in reference["topics"]]
    for run in runs[1:]:
        vocab = sorted({t for r in (reference, run) for topic in r["topics"]
                        for t, _, _ in topic["terms"]})
        rows, cols, sims = match_topics(_term_vectors(reference, vocab),
                                        _term_vectors(run, vocab))
        matched = dict(zip(rows.tolist(), zip(cols.tolist(), sims.tolist())))
        for k, cells in enumerate(aligned):
            if k in matched:
                j, sim = matched[k]
                cells.append(f"{j}: {run['topics'][j]['label']} ({sim:.2f})")
            else:
                cells.append("-")
    return {"labels": [run["label"] for run in runs], "metrics": table, "aligned": aligned}


def _term_vectors(run: dict, vocab: list[str]) -> np.ndarray:
    """Each topic's p(w|t) over ``vocab`` (its saved terms only; the rest count as 0)."""
    position = {t: i for i, t in enumerate(vocab)}
    vectors = np.zeros((len(run["topics"]), len(vocab)))
    for k, topic in enumerate(run["topics"]):
        for term, p, _ in topic["terms"]:
            vectors[k, position[term]] = p
    return vectors


def _number(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"
