"""Size and load time of the HTML report for 20 Newsgroups with 20 topics.

    python benchmarks/report_size.py [--out DIR] [--models nmf] [--corpus PATH]

Fits each model, builds the report data and the page, then opens the page from disk in
Debian's headless Chromium (through Playwright) and reads the browser's own timing of the
load. Needs chromium (apt) and playwright (pip); prints one Markdown table row per model
and one for the page.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from topicmf import analyze, load_corpus
from topicmf.report import report_data, write_report

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpora" / "20newsgroups_bydate.jsonl.gz"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--models", default="nmf", help="comma-separated, e.g. lsa,nmf,plsa")
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--out", type=Path, help="keep the report here (default: a temp dir)")
    parser.add_argument("--loads", type=int, default=5, help="page loads to time")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="report-size-"))
    corpus = load_corpus(args.corpus, id_column="filename")
    runs = []
    print("| model | analyze (s) | report_data (s) | report.json (MB) |")
    print("|---|---|---|---|")
    for model in args.models.split(","):
        started = time.perf_counter()
        result = analyze(corpus, args.topics, model=model)
        fitted = time.perf_counter() - started
        started = time.perf_counter()
        data = report_data(result, label=model)
        gathered = time.perf_counter() - started
        size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
        runs.append(data)
        print(f"| {model} | {fitted:.1f} | {gathered:.2f} | {size / 1e6:.2f} |")

    started = time.perf_counter()
    page = write_report(runs, out)
    rendered = time.perf_counter() - started
    plots = sum(p.stat().st_size for p in (out / "plots").iterdir())
    timings = _load_times(page, args.loads)
    print()
    print("| documents | page (MB) | plots/ (MB) | write_report (s) | load event (ms, median) "
          "| DOMContentLoaded, scripts done (ms, median) |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(corpus):,} | {page.stat().st_size / 1e6:.2f} | {plots / 1e6:.2f} "
          f"| {rendered:.1f} | {statistics.median(t['load'] for t in timings):.0f} "
          f"| {statistics.median(t['ready'] for t in timings):.0f} |")
    print(f"\nreport in {out}")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


def _load_times(page: Path, loads: int) -> list[dict]:
    """Per load: the load event and the end of the page's scripts (document map drawn),
    in ms since navigation started, as the browser measured them."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for _ in range(loads):
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            errors = []
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(page.as_uri(), wait_until="load", timeout=60_000)
            tab.wait_for_selector("#docmap-0 circle", state="attached")
            timings.append(tab.evaluate("""() => {
                const nav = performance.getEntriesByType("navigation")[0];
                return {load: nav.loadEventEnd, ready: nav.domContentLoadedEventEnd};
            }"""))
            if errors:
                raise SystemExit(f"page error: {errors[0]}")
            tab.close()
        browser.close()
    return timings


if __name__ == "__main__":
    main()
