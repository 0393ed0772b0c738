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


def tab_walk(page: Page, within: str) -> list[dict]:
    """Tab from the top of a freshly loaded page through the elements inside ``within``: for
    each, its id, label or text and where it is on the screen, in the order the keyboard
    reaches them."""
    walk = []
    for _ in range(50):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            r"""(within) => {
                const element = document.activeElement;
                if (!element || !element.closest(within)) return null;
                const r = element.getBoundingClientRect();
                const name = element.id || element.getAttribute('aria-label')
                             || element.textContent.trim().replace(/\s+/g, ' ');
                return {name, top: r.top, bottom: r.bottom, left: r.left, right: r.right};
            }""",
            within,
        )
        if focused is None and walk:
            break
        if focused is not None:
            walk.append(focused)
    return walk


def follows_in_reading_order(before: dict, after: dict) -> bool:
    """``after`` is to the right of ``before`` on the same line, or on a line below it."""
    same_line = after["top"] < before["bottom"] and after["bottom"] > before["top"]
    if same_line:
        return after["left"] >= before["right"] - 1
    return after["top"] >= before["bottom"] - 1
