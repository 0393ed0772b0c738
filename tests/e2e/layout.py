"""Layout checks in the browser that several journeys share."""

from __future__ import annotations

from playwright.sync_api import Page

_SIDEWAYS = """(selector) => {
    const table = document.querySelector(selector);
    const wrap = table.closest('.table-wrap');
    const cells = [...table.querySelectorAll('tbody td')].map(
        (cell) => cell.getBoundingClientRect().right);
    return {page: document.documentElement.scrollWidth, viewport: window.innerWidth,
            wrap: wrap.scrollWidth, wrapWidth: wrap.clientWidth, cellsRight: Math.max(...cells)};
}"""


def assert_no_sideways_scrolling(page: Page, table: str) -> None:
    """Neither the page nor the list scrolls sideways: every cell is in view."""
    reach = page.evaluate(_SIDEWAYS, table)
    assert reach["page"] <= reach["viewport"], reach
    assert reach["wrap"] <= reach["wrapWidth"], reach
    assert reach["cellsRight"] <= reach["viewport"], reach
