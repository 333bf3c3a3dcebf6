"""The HTML report of an analysis: one self-contained page, plus its plots as PNG and SVG.

    data = report_data(result, label="nmf")        # JSON-ready; saved as report.json
    write_report_data(data, "reports/news")        # report.json, for 'topicmf report'
    write_report([data], "reports/news")           # writes index.html and plots/
"""

from .data import report_data
from .html import load_report_data, write_report, write_report_data

__all__ = ["report_data", "write_report", "write_report_data", "load_report_data"]
