"""The report page in a real browser: Debian's headless Chromium driven by Playwright.

Needs ``apt-get install chromium fonts-noto-cjk`` and ``pip install playwright`` (no browser
download: the system binary is used).
"""

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright
from test_report import IMG, SCRIPT, fit, make_corpus_file

from topicmf import load_corpus
from topicmf.report import report_data, write_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SECTIONS = ("summary", "topics", "heatmap", "doc-map", "intertopic", "hierarchy", "convergence",
            "labels")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """Two models of an English + Chinese corpus with hostile documents."""
    folder = tmp_path_factory.mktemp("browser")
    corpus = load_corpus(make_corpus_file(folder, chinese=8))
    # PLSA first: its four topics are English/Chinese x finance/politics, and the hostile
    # documents are among its representative documents.
    runs = [report_data(fit(corpus, 4, model), label=model) for model in ("plsa", "nmf")]
    return write_report(runs, folder / "out")


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).is_file(), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def loaded(browser, report):
    """The page opened from disk, with every console message, page error and dialog seen."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = {"console": [], "errors": [], "dialogs": [], "requests": []}
    page.on("console", lambda m: seen["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.goto(report.as_uri(), wait_until="load")
    yield page, seen
    page.close()


def terms_of_first_card(page, run=0):
    return page.locator(f"#run-{run} article.card").first.locator("ol.terms .term").all_text_contents()


def test_page_loads_from_disk_without_errors_or_requests(loaded, report):
    page, seen = loaded
    assert seen["errors"] == []
    assert [m for m in seen["console"] if m[0] in ("error", "warning")] == []
    assert seen["requests"] == [report.as_uri()]           # nothing else fetched
    broken = page.evaluate("[...document.images].filter(i => !i.naturalWidth).length")
    assert broken == 0 and page.locator("img.plot").count() == 12


def test_every_section_is_present_in_each_run(loaded):
    page, _ = loaded
    assert page.locator('[data-section="comparison"]').is_visible()
    for run in (0, 1):
        for section in SECTIONS:
            assert page.locator(f'#run-{run} [data-section="{section}"]').count() == 1, section


def test_hostile_documents_show_as_text_and_run_nothing(loaded):
    page, seen = loaded
    ids = page.locator("#run-0 .doc-id").all_text_contents()
    assert SCRIPT in ids and IMG in ids
    page.locator("#run-0 summary", has_text=IMG).first.click()  # expand the document
    text = page.locator("#run-0 details[open] pre.doc-text").first.text_content()
    assert IMG in text
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    assert seen["dialogs"] == []


def test_lambda_slider_reorders_terms(loaded):
    page, _ = loaded
    before = terms_of_first_card(page)
    page.locator("#lambda-0").fill("0")
    after = terms_of_first_card(page)
    assert page.locator("#lambda-0-value").text_content() == "0.00"
    assert len(after) == len(before) == 10 and after != before
    page.locator("#lambda-0").fill("1")
    assert terms_of_first_card(page) == before


def test_tab_switch_shows_the_other_model(loaded):
    page, _ = loaded
    assert page.locator("#run-0").is_visible() and page.locator("#run-1").is_hidden()
    assert page.locator("#docmap-0 circle").count() > 0
    page.locator("#tab-1").click()
    assert page.locator("#run-1").is_visible() and page.locator("#run-0").is_hidden()
    assert page.locator("#tab-1").get_attribute("aria-selected") == "true"
    assert "nmf" in page.locator("#run-1 [data-section=summary] h2").text_content()
    dots = page.locator("#docmap-1 circle")
    assert dots.count() == 26 + 16
    titles = page.locator("#docmap-1 circle title").all_text_contents()
    assert any(SCRIPT in title for title in titles)        # hover text, as text
    page.locator("#tab-0").click()
    assert page.locator("#run-0").is_visible()


def test_screenshot_is_not_blank_and_chinese_has_glyphs(loaded):
    page, _ = loaded
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("L"), dtype=float)
    assert shot.std() > 10                                  # not a blank page
    # Two different Chinese characters drawn big: as glyphs they differ, as missing-glyph
    # boxes they would be the same picture.
    page.evaluate("""() => {
        for (const [id, text] of [["zh-a", "股"], ["zh-b", "選"]]) {
            const span = document.createElement("span");
            span.id = id; span.textContent = text; span.style.fontSize = "64px";
            document.body.prepend(span);
        }
    }""")
    a = page.locator("#zh-a").screenshot()
    b = page.locator("#zh-b").screenshot()
    assert a != b
    assert any("\u4e00" <= ch <= "\u9fff"
               for term in page.locator("#run-0 ol.terms .term").all_text_contents()
               for ch in term)


HOSTILE_LABELS = {"finance": '<img src=x onerror=alert("label")>$\\frac{$',
                  "politics": "</script><script>alert('label2')</script> $x$"}


def test_hostile_labels_ids_run_names_and_title_run_nothing(browser, tmp_path):
    """Labels, document ids, the run's name and the page title made of markup (and of TeX,
    which the plots must draw as text): all shown as text, nothing runs."""
    import json

    from conftest import make_two_topic_texts

    rows = [{"id": f"<b onmouseover=alert(1)>{name}</b>",
             "label": HOSTILE_LABELS[name.split("/")[0]], "text": text}
            for name, text in make_two_topic_texts().items()]
    path = tmp_path / "<svg onload=alert(3)>.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    run = report_data(fit(load_corpus(path), 2), label="<img src=y onerror=alert(4)>")
    page_path = write_report([run], tmp_path / "out", title="<script>alert(5)</script>")
    for svg in (tmp_path / "out" / "plots").glob("*.svg"):
        text = svg.read_text(encoding="utf-8")
        assert "<img" not in text and "<script" not in text and "onload" not in text
    page = browser.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.as_uri(), wait_until="load")
    page.mouse.move(200, 200)
    body = page.locator("body").inner_text()
    assert HOSTILE_LABELS["finance"] in body and "<script>alert(5)</script>" in body
    assert page.title() == "<script>alert(5)</script>"
    assert page.locator("img[src='x'], img[src='y'], b[onmouseover]").count() == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 2
    assert dialogs == [] and errors == []
    page.close()


def test_find_box_lists_and_rings_matching_documents_as_text(loaded):
    page, seen = loaded
    box = page.locator("#find-0")
    box.fill("politics/00")
    items = page.locator("#find-0-list li").all_text_contents()
    assert items and all("politics/00" in item for item in items)
    assert page.locator("#docmap-0 circle.found").count() == len(items)
    box.fill("<img")  # a hostile id: found and shown as text
    assert any("<img" in item for item in page.locator("#find-0-list li").all_text_contents())
    assert page.locator("img[src='x']").count() == 0 and seen["dialogs"] == []
    box.fill("")
    assert page.locator("#docmap-0 circle.found").count() == 0
    assert page.locator("#find-0-list li").count() == 0
