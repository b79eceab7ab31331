"""The HTML report in a real browser, offline: no outside request, no console error, every chart drawn."""

from __future__ import annotations

import pytest
from browser import OUTPUT, browser_page
from conftest import SAMPLE

from senderscore import load_enrollments, sender_scores

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
        page.screenshot(path=str(OUTPUT / "report.png"))  # docs/report.png is a copy of this
    assert outside == []
    assert errors == []
