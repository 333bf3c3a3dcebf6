"""The report's static plots, drawn with matplotlib from the data of one run.

Figures are made without pyplot, so drawing them never opens a window nor touches the
caller's matplotlib backend or open figures.

Each plot is written as PNG and SVG (text as paths, so it shows without the fonts) and its PNG
is returned for inlining in the page. Chinese terms need a CJK font: the first of
``CJK_FONTS`` that matplotlib finds is used as fallback after DejaVu Sans, or the font file
named by the ``TOPICMF_FONT`` environment variable. Without one, a single TopicmfWarning says
what to install instead of one "Glyph missing" warning per character.
"""

from __future__ import annotations

import base64
import io
import os
import re
import warnings
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import font_manager, ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imsave
from matplotlib.transforms import Bbox

from ..errors import TopicmfWarning

__all__ = ["render_plots", "palette", "colour_groups", "coloured_by", "cjk_font", "PLOTS",
           "DATED_PLOTS"]

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "SimHei",
             "Noto Sans CJK JP", "Droid Sans Fallback", "Arial Unicode MS")

#: name -> title, in the order the page shows them.
PLOTS = {"topics": "Top terms per topic", "heatmap": "Document-topic heatmap",
         "doc_map": "Document map", "intertopic": "Intertopic map",
         "similarity": "Topic similarity", "hierarchy": "Which topics belong together",
         "convergence": "Convergence",
         "labels": "Labels vs topics"}
#: The plots drawn only for a corpus with dates.
DATED_PLOTS = {"time": "Topics over time"}
MAX_TOPIC_PANELS = 60
DPI = 110


def cjk_font() -> str | None:
    """The family name of the font used for Chinese, or None when there is none."""
    path = os.environ.get("TOPICMF_FONT")
    if path and Path(path).is_file():
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path).get_name()
    available = {font.name for font in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in available), None)
    if found is None:
        # matplotlib's font cache may predate a font installed later: look on disk once.
        for path in font_manager.findSystemFonts():
            if re.search(r"cjk|wqy|wenquanyi|sourcehan|droidsansfallback", Path(path).name,
                         re.IGNORECASE):
                font_manager.fontManager.addfont(path)
        available = {font.name for font in font_manager.fontManager.ttflist}
        found = next((name for name in CJK_FONTS if name in available), None)
    return found


def palette(n: int) -> list[str]:
    """``n`` distinct colours as #rrggbb, the same in the PNGs and on the page."""
    if n <= 10:
        colours = matplotlib.colormaps["tab10"].colors[:n]
    elif n <= 20:
        colours = matplotlib.colormaps["tab20"].colors[:n]
    else:
        colours = matplotlib.colormaps["hsv"](np.linspace(0, 1, n, endpoint=False))
    return [matplotlib.colors.to_hex(c) for c in colours]


def render_plots(data: dict, folder: Path, prefix: str) -> dict[str, str]:
    """Draw every plot of one run into ``folder`` as ``{prefix}{name}.png`` and ``.svg``;
    return the PNGs base64-encoded, by plot name."""
    font = cjk_font()
    families = ["DejaVu Sans"] + ([font] if font else [])
    drawers = {"topics": _topics, "heatmap": _heatmap, "doc_map": _doc_map,
               "intertopic": _intertopic, "similarity": _similarity, "hierarchy": _hierarchy,
               "convergence": _convergence, "labels": _labels, "time": _time}
    images, missing = {}, set()
    # text.parse_math off: a label, id or term such as "$\\frac{$" is text, not TeX to parse
    # (matplotlib raised on it, and "$x$" showed as math).
    style = {"font.family": families, "font.size": 9, "svg.fonttype": "path",
             "axes.spines.top": False, "axes.spines.right": False, "text.parse_math": False}
    with matplotlib.rc_context(style), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, draw in drawers.items():
            if name in ("labels", "time") and not data.get(name):
                continue
            png = _save(draw(data), folder / f"{prefix}{name}.svg")
            (folder / f"{prefix}{name}.png").write_bytes(png)
            images[name] = base64.b64encode(png).decode("ascii")
    for warning in caught:
        text = str(warning.message)
        if "missing from font" in text:
            missing.add(text)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    if missing:
        warnings.warn("Some characters have no glyph in the fonts matplotlib found, so they "
                      "show as boxes in the plots; install a CJK font (Debian: fonts-noto-cjk) "
                      "or set TOPICMF_FONT to a font file.", TopicmfWarning, stacklevel=2)
    return images


MARGIN = 2.0  # inches of canvas around a figure, for labels that overflow it
PAD = 0.1  # inches around the drawing, as savefig's pad_inches


def _save(fig, svg_path: Path) -> bytes:
    """Write the figure as SVG and return it as PNG, both cropped to what was drawn.

    savefig(bbox_inches="tight") draws a figure once to find its extent and again to write
    it, for each format. Here the PNG is drawn once, on a canvas with a margin for labels
    that stick out of the figure, and cropped to the drawing; the SVG is written with that
    extent, which needs no extra pass: two drawings per plot instead of four.
    """
    width, height = fig.get_size_inches()
    big_w, big_h = width + 2 * MARGIN, height + 2 * MARGIN
    for ax in fig.axes:
        x0, y0, w, h = ax.get_position().bounds
        ax.set_position([(x0 * width + MARGIN) / big_w, (y0 * height + MARGIN) / big_h,
                         w * width / big_w, h * height / big_h])
    fig.set_size_inches(big_w, big_h)
    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    # The drawing's extent is where the pixels differ from the background (cheaper than
    # asking every artist for its extent, which lays out the ticks again).
    pixels = np.asarray(canvas.buffer_rgba())
    ink = (pixels != pixels[0, 0]).any(axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    pad = int(round(PAD * DPI))
    if rows.size:
        top, bottom = max(rows[0] - pad, 0), min(rows[-1] + 1 + pad, ink.shape[0])
        left, right = max(cols[0] - pad, 0), min(cols[-1] + 1 + pad, ink.shape[1])
    else:
        top, bottom, left, right = 0, ink.shape[0], 0, ink.shape[1]
    drawn = Bbox.from_extents(left / DPI, (ink.shape[0] - bottom) / DPI, right / DPI,
                              (ink.shape[0] - top) / DPI)
    buffer = io.BytesIO()
    imsave(buffer, pixels[top:bottom, left:right], format="png", dpi=DPI)
    fig.savefig(svg_path, bbox_inches=drawn)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- the plots

def _topics(data):
    topics = data["topics"][:MAX_TOPIC_PANELS]
    cols = min(4, len(topics))
    rows = -(-len(topics) // cols)
    fig, axes = _subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    colours = palette(len(data["topics"]))
    for ax, topic in zip(axes.flat, topics):
        terms = topic["top_terms"][:10][::-1]
        ax.barh([t for t, _ in terms], [w for _, w in terms], color=colours[topic["topic"]])
        ax.set_title(f"Topic {topic['topic']} ({topic['share']:.0%})", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(topics):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _heatmap(data):
    heat = data["heatmap"]
    weights = np.asarray(heat["weights"], dtype=float).reshape(len(heat["ids"]), -1)
    n_rows, n_topics = weights.shape
    fig, ax = _subplots(figsize=(max(4.0, 0.35 * n_topics + 2.5),
                                    min(10.0, max(2.5, 0.22 * n_rows + 1))))
    image = ax.imshow(weights, aspect="auto", interpolation="nearest", cmap="viridis")
    fig.colorbar(image, ax=ax, fraction=0.04, label="topic weight")
    ax.set_xticks(range(n_topics))
    ax.set_xlabel("topic")
    groups = heat["label"] if heat["label"] else [f"topic {t}" for t in heat["topic"]]
    starts = [i for i in range(n_rows) if i == 0 or groups[i] != groups[i - 1]]
    for start in starts[1:]:
        ax.axhline(start - 0.5, color="white", linewidth=0.8)
    if n_rows <= 60:
        ax.set_yticks(range(n_rows), [_short(i, 28) for i in heat["ids"]], fontsize=7)
    elif len(starts) <= 40:
        ends = starts[1:] + [n_rows]
        ax.set_yticks([(a + b - 1) / 2 for a, b in zip(starts, ends)],
                      [_short(groups[a], 28) for a in starts], fontsize=7)
    else:
        ax.set_yticks([])
    what = ("a stratified sample of " if heat["sampled"] else "") + f"{n_rows:,} documents"
    ax.set_ylabel(f"{what}, grouped by {' and '.join(heat['grouped_by'])}")
    return fig


def _doc_map(data):
    points = data["doc_map"]
    categories, names = _colour_groups(data)
    colours = palette(len(names))
    fig, ax = _subplots(figsize=(7, 5.5))
    x, y = np.asarray(points["x"]), np.asarray(points["y"])
    size = 6 if len(x) > 1000 else 18
    for code, name in enumerate(names):
        chosen = categories == code
        ax.scatter(x[chosen], y[chosen], s=size, color=colours[code], alpha=0.6,
                   linewidths=0, label=_short(name, 24))
    if len(names) <= 20:
        ax.legend(fontsize=7, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5),
                  frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def _intertopic(data):
    coords = np.asarray(data["intertopic"]["coordinates"], dtype=float).reshape(-1, 2)
    shares = np.array([t["share"] for t in data["topics"]])
    fig, ax = _subplots(figsize=(6, 5))
    ax.scatter(coords[:, 0], coords[:, 1], s=200 + 4000 * shares, alpha=0.45,
               color=palette(len(coords)), edgecolors="#333333", linewidths=0.6)
    crowded = len(coords) > 10  # then the topic numbers only: the labels would overlap
    for topic, (x, y) in zip(data["topics"], coords):
        text = str(topic["topic"]) if crowded else f"{topic['topic']}: {_short(topic['label'], 22)}"
        ax.annotate(text, (x, y), fontsize=8 if crowded else 7, ha="center", va="center")
    ax.margins(0.18)
    ax.set_aspect("equal", adjustable="datalim")  # distances on the map mean something
    ax.set_xlabel("MDS 1 (Jensen-Shannon distance)")
    ax.set_ylabel("MDS 2")
    return fig


def _hierarchy(data):
    """The dendrogram of the topics (average linkage of their Jensen-Shannon distances), each
    leaf the topic's number and label in its colour."""
    from scipy.cluster.hierarchy import dendrogram

    from ..hierarchy import hierarchy_from_distances

    tree = hierarchy_from_distances(data["intertopic"]["distances"])
    k = tree.n_topics
    colours = palette(k)
    fig, ax = _subplots(figsize=(6.5, max(2.2, 0.28 * k + 1)))
    if k < 2:
        ax.text(0.5, 0.5, "one topic: nothing to join", ha="center", va="center")
        ax.set_axis_off()
        return fig
    drawn = dendrogram(tree.merges, orientation="left", no_plot=True)
    for xs, ys in zip(drawn["dcoord"], drawn["icoord"]):
        ax.plot(xs, ys, color="#555555", linewidth=1)
    labels = {t["topic"]: t["label"] for t in data["topics"]}
    ticks = [5 + 10 * i for i in range(k)]
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"{leaf}: {_short(labels.get(leaf, ''), 28)}" for leaf in drawn["leaves"]],
                       fontsize=7 if k > 20 else 8)
    for tick, leaf in zip(ax.get_yticklabels(), drawn["leaves"]):
        tick.set_color(colours[leaf])
    ax.set_ylim(0, 10 * k)
    ax.set_xlim(left=0)
    ax.invert_xaxis()
    ax.yaxis.tick_right()
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Jensen-Shannon distance at which the groups join")
    return fig


def _similarity(data):
    matrix = np.asarray(data["similarity"], dtype=float)
    k = len(matrix)
    fig, ax = _subplots(figsize=(max(3.5, 0.32 * k + 2), max(3, 0.32 * k + 1.5)))
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="magma_r")
    fig.colorbar(image, ax=ax, fraction=0.046, label="cosine of p(w|t)")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("topic")
    ax.set_ylabel("topic")
    if k <= 12:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > 0.6 else "black")
    return fig


def _convergence(data):
    values = data["convergence"]["objective"]
    fig, ax = _subplots(figsize=(6, 3.2))
    ax.plot(range(1, len(values) + 1), values, marker="o" if len(values) < 40 else None,
            markersize=3)
    ax.set_xlabel("iteration")
    ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.set_ylabel("objective (log-likelihood)" if data["convergence"]["maximize"]
                  else "objective")
    if len(values) <= 1:
        ax.set_title("one step, no iterations", fontsize=9)
    return fig


def _labels(data):
    table = np.asarray(data["labels"]["table"], dtype=float)
    names = data["labels"]["labels"]
    fig, ax = _subplots(figsize=(max(4.0, 0.4 * table.shape[1] + 3),
                                    max(2.5, 0.3 * len(names) + 1.2)))
    share = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    ax.imshow(share, aspect="auto", cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(table.shape[1]))
    ax.set_yticks(range(len(names)), [_short(n, 30) for n in names])
    ax.set_xlabel("dominant topic")
    if table.size <= 400:
        for (i, j), count in np.ndenumerate(table):
            if count:
                ax.text(j, i, f"{int(count)}", ha="center", va="center", fontsize=6,
                        color="white" if share[i, j] > 0.6 else "black")
    ax.set_title(f"purity {data['labels']['purity']:.3f}, NMI {data['labels']['nmi']:.3f}",
                 fontsize=9)
    return fig


def _time(data):
    time = data["time"]
    shares = np.asarray(time["shares"], dtype=float).reshape(len(time["periods"]), -1)
    n_periods, n_topics = shares.shape
    fig, ax = _subplots(figsize=(min(14.0, max(6.0, 0.12 * n_periods + 4)), 4.2))
    x = np.arange(n_periods)
    labels = [_short(f"{t['topic']}: {t['label']}", 30) for t in data["topics"]]
    colours = palette(n_topics)
    if n_periods <= 2:  # an area needs more than two periods to show anything
        bottoms = np.cumsum(shares, axis=1) - shares
        for k in range(n_topics):
            ax.bar(x, shares[:, k], bottom=bottoms[:, k], color=colours[k], label=labels[k])
    else:
        ax.stackplot(x, shares.T, colors=colours, labels=labels, alpha=0.85, linewidth=0)
        ax.set_xlim(0, n_periods - 1)
    ax.set_ylim(0, 1)
    step = max(1, -(-n_periods // 24))  # at most about 24 labels on the axis
    ax.set_xticks(x[::step], [time["periods"][i] for i in x[::step]], rotation=60,
                  ha="right", fontsize=7)
    ax.set_xlabel(time["period"])
    ax.set_ylabel("share of the documents" if time["measure"] == "dominant topic"
                  else "mean topic weight")
    if n_topics <= 20:
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], names[::-1], fontsize=7, loc="center left",
                  bbox_to_anchor=(1.0, 0.5), frameon=False)
    return fig


# ---------------------------------------------------------------------------- helpers

def _subplots(nrows=1, ncols=1, *, figsize, squeeze=True):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, squeeze=squeeze)


MAX_LABEL_COLOURS = 20


def _colour_groups(data) -> tuple[np.ndarray, list[str]]:
    """Document-map colours: by label when there are labels (and few enough to tell apart),
    else by dominant topic. Returns a category code per point and the category names."""
    points = data["doc_map"]
    if coloured_by(data) == "label":
        names, codes = np.unique(np.asarray(points["label"], dtype=str), return_inverse=True)
        return codes.ravel(), names.tolist()
    n_topics = len(data["topics"])
    return np.asarray(points["topic"], dtype=int), [f"topic {k}" for k in range(n_topics)]


def coloured_by(data) -> str:
    """What colours the document map: "label" or "dominant topic"."""
    labels = data["doc_map"].get("label")
    return "label" if labels and len(set(labels)) <= MAX_LABEL_COLOURS else "dominant topic"


def colour_groups(data) -> tuple[list[int], list[str], list[str]]:
    """Category code per document-map point, category names and their colours (for the page)."""
    codes, names = _colour_groups(data)
    return codes.tolist(), names, palette(len(names))


def _short(text, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[:n - 1] + "…"
