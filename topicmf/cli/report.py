"""``topicmf report FOLDER``: render the HTML report again from the saved report data.

Reads ``FOLDER/report.json`` (or ``FOLDER/<model>/report.json`` of a multi-model run) and
rewrites ``FOLDER/index.html`` and ``FOLDER/plots/`` without refitting anything.
"""

from __future__ import annotations

from pathlib import Path

from ._common import examples, print_json

__all__ = ["add_parser", "run"]


def add_parser(commands, common) -> None:
    """Register the ``report`` subcommand on the CLI's subparsers."""
    parser = commands.add_parser(
        "report", parents=[common], help="render the HTML report again from saved results",
        description="Rewrite FOLDER/index.html and FOLDER/plots/ from the report.json file(s) "
                    "that 'topicmf analyze' saved in FOLDER, without refitting.",
        **examples("topicmf report reports/finance-politics-en --title 'Finance and politics'"))
    parser.add_argument("folder", metavar="FOLDER", help="output folder of 'topicmf analyze'")
    parser.add_argument("--title", metavar="TEXT", help="page title (default: Topics of <corpus>)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Re-render the report; print where it went (or JSON with --json)."""
    from ..io import staged_output
    from ..report import load_report_data, write_report

    folder = Path(args.folder)
    runs = load_report_data(folder)
    with staged_output(folder) as staging:
        write_report(runs, staging, title=args.title)
        plots = sorted(p.name for p in (staging / "plots").iterdir())
    page = folder / "index.html"
    if args.json:
        print_json({"report": str(page), "runs": [r["label"] for r in runs],
                    "plots": [str(folder / "plots" / name) for name in plots]})
    elif not args.quiet:
        print(f"Wrote {page} ({len(runs)} run(s): {', '.join(r['label'] for r in runs)}) "
              f"and {len(plots)} plot files in {folder / 'plots'}/")
    return 0
