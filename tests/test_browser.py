"""The HTML report in a real browser, offline: no outside request, no console error, every chart drawn."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest
from browser import OUTPUT, browser_page
from conftest import SAMPLE

from senderscore import load_enrollments, sender_scores
from senderscore.evidence import gather, suppression_list

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_report_renders_offline(sample_report):
    outside: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:  # anything else would fail offline: block it and remember it
            outside.append(url)
            request_route.abort()

    expected = sender_scores(load_enrollments(SAMPLE).enrollments, start="2026-01-01")
    with browser_page() as (page, errors):
        page.route("**/*", route)
        page.goto(sample_report.as_uri(), wait_until="load")
        charts = page.locator(".jp-RenderedSVG svg")
        assert charts.count() == 4  # score, rates, trend, domains
        for i in range(4):
            assert charts.nth(i).locator("g.role-mark > *").count() > 0
            assert charts.nth(i).bounding_box()["width"] > 200
        assert page.locator('table[data-table="user-scores"] tbody tr').count() == len(expected)
        assert page.locator("details").count() == len(expected)
        OUTPUT.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1100, "height": 1500})
        page.screenshot(path=str(OUTPUT / "report.png"))
    assert outside == []
    assert errors == []


def test_the_first_screen_says_who_why_and_what_next(sample_report):
    """At 1400 px, the first screen lists each user who needs attention with score, band, cause
    and the action worth most, and the team's numbers beside them."""
    by_user = sender_scores(load_enrollments(SAMPLE).enrollments, start="2026-01-01")
    low = by_user.loc[by_user["eligible"] & (by_user["band"] == "Low"), "user_name"]
    with browser_page({"width": 1400, "height": 900}) as (page, errors):
        page.goto(sample_report.as_uri(), wait_until="load")
        lines = page.locator('[data-table="attention"] > li')
        assert lines.count() >= len(low) > 0
        first = lines.first
        assert first.bounding_box()["y"] + first.bounding_box()["height"] < 900  # above the fold
        text = first.inner_text()
        assert low.iloc[-1] in text  # the lowest official score comes first
        assert "First:" in text and "points" in text and ("Too many bounces" in text or "Too few replies" in text)
        team = page.locator('[data-table="team"]')
        assert team.bounding_box()["y"] < 900 and "Team reply rate" in team.inner_text()
        names = [lines.nth(i).get_attribute("data-user") for i in range(lines.count())]
        official = set(by_user.loc[by_user["eligible"], "user_id"])
        assert set(names) <= official  # provisional scores wait for data
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "report-first-screen.png"))  # docs/ holds a copy
    assert errors == []


def test_the_report_prints_on_a4_and_letter_with_every_column(sample_report, tmp_path):
    """Printed, the sample's report is about ten pages, each section on a new page, every column
    header of every table in the text, the drill-down open, no blank last page."""
    require_pdftotext()
    with browser_page() as (page, errors):
        page.goto(sample_report.as_uri(), wait_until="load")
        headers = page.evaluate(
            "() => [...document.querySelectorAll('table.ss-table th')].map(th => th.textContent.trim())"
        )
        drilldown = page.locator("details table").count()
        # Printed on A4 (190 mm between the margins), no table is wider than the page: none is cut.
        page.set_viewport_size({"width": 718, "height": 1000})
        page.emulate_media(media="print")
        cut = page.evaluate(
            "() => { const page = document.body.getBoundingClientRect().right;"
            " return [...document.querySelectorAll('table.ss-table')]"
            ".filter(t => t.getBoundingClientRect().right > page + 1).map(t => t.dataset.table); }"
        )
        assert cut == []
        pdfs = {}
        for size in ("A4", "Letter"):
            pdfs[size] = tmp_path / f"{size}.pdf"
            page.pdf(path=str(pdfs[size]), format=size, print_background=True)
    assert drilldown > 0 and errors == []
    for size, pdf in pdfs.items():
        pages = pdf_pages(pdf)
        assert 8 <= len(pages) <= 12, (size, len(pages))
        assert pages[-1].strip(), f"{size}: blank last page"
        words = set(" ".join(pages).split())
        for header in set(headers):  # a header cell may wrap, so its words are what survives
            assert set(header.split()) <= words, (size, header)
        starts = [p.split("\n", 1)[0].strip() for p in pages]
        for section in ("Sender score per user", "Findings", "Clean-up list", "Trend", "Methodology"):
            assert section in starts, (size, section, starts)  # a page break before each section
        assert {"Sequence", "Case", "study"} <= words  # the drill-down printed open
    OUTPUT.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", pdfs["A4"],
                    OUTPUT / "report-printed"], check=True)  # fmt: skip


def test_on_a_phone_user_score_and_band_stay_in_view(sample_report):
    with browser_page({"width": 400, "height": 800}) as (page, errors):
        page.goto(sample_report.as_uri(), wait_until="load")
        table = page.locator('table[data-table="user-scores"]')
        table.scroll_into_view_if_needed()
        for column in ("User", "Score", "Band"):
            box = table.locator("th", has_text=column).first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 400, (column, box)
        band = table.locator("tbody tr").first.locator("td").nth(2).bounding_box()
        assert band["x"] + band["width"] <= 400
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / "report-phone.png"))  # docs/ holds a copy
    assert errors == []


def test_the_whole_clean_up_list_downloads_offline(sample_report, tmp_path):
    expected = suppression_list(gather(load_enrollments(SAMPLE).enrollments, start="2026-01-01"), mask=True)
    with browser_page() as (page, errors):
        page.goto(sample_report.as_uri(), wait_until="load")
        with page.expect_download() as info:
            page.locator("a.ss-download").click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.suffix == ".csv"
        shown = page.locator('table[data-table="cleanup"] tbody tr').count()
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert len(rows) == len(expected) > shown  # the whole list, not the rows on the page
    assert set(rows["contact_id"]) == set(expected["contact_id"])
    assert rows["contact_email"].str.contains(r"\*\*\*@").all()  # masked, as in the report
    assert rows["reasons"].head(5).str.contains("unsubscribed").all()  # compliance first
    assert errors == []


def require_pdftotext() -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: `apt-get install poppler-utils` (make test installs it).")


def pdf_pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")
