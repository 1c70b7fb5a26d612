"""The console's access checks (issue 11) in a real headless Chromium against the whole
stack, on the records team (tests/browser/records_team.py; its session fixture `records`):
for every page a team lead opens, and the two sign-in pages, every visible text meets WCAG
AA contrast against its effective background; at 360x740 and 1920x1080 no page scrolls
sideways and the wall board's type is larger than the normal board's; by keyboard alone the
sign-in form is completed and sent, and Tab reaches a dispatch's Take button (with a visible
focus ring) which Enter takes.

UPDATE_SCREENSHOTS=1 writes the wall board's screenshot to docs/console-wall.png; otherwise
it goes to the test's temporary directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dispatch.stack.runtime import Stack
from tests.browser.console_team import PASSWORD
from tests.browser.records_team import CLIENT, LEAD
from tests.browser.test_console import sign_in
from tests.browser.test_console_records import Records, errors, records, shot_path

__all__ = ["records"]  # the shared session fixture
WAIT_MS = 10_000
PHONE, WALL = {"width": 360, "height": 740}, {"width": 1920, "height": 1080}

# Each element with its own text: its colour over the first opaque background found going
# up (semi-transparent layers and opacity blended in); SVG text by its fill. Returns
# [selector, ratio, needed, text] for each element below AA (4.5, or 3 for large text).
CONTRAST_JS = """() => {
  const rgba = (s) => { const n = (s.match(/[\\d.]+/g) || []).map(Number);
    return n.length < 3 ? null : [n[0], n[1], n[2], n.length > 3 ? n[3] : 1]; };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]));
  const lum = (c) => { const l = c.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
  const background = (el) => { const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const b = rgba(getComputedStyle(e).backgroundColor);
      if (b && b[3] > 0 && !(e instanceof SVGElement)) { layers.push(b); if (b[3] >= 1) break; }
    }
    let c = [255, 255, 255];
    for (const b of layers.reverse()) c = over(b, c);
    return c; };
  const name = (el) => { const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 3; e = e.parentElement) {
      let s = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(s + "#" + e.id); break; }
      if (typeof e.className === "string" && e.className.trim())
        s += "." + e.className.trim().split(/\\s+/).join(".");
      parts.unshift(s);
    }
    return parts.join(" > "); };
  const failing = [];
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
      || (el.matches("input:not([type=hidden]), select") && (el.value || el.placeholder));
    if (!own || el.closest("[hidden], script, style, [disabled]")) continue;
    const st = getComputedStyle(el), r = el.getBoundingClientRect();
    if (st.visibility !== "visible" || r.width === 0 || r.right <= 0 || r.bottom <= 0) continue;
    let alpha = 1;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement)
      alpha *= Number(getComputedStyle(e).opacity);
    const svg = el instanceof SVGElement;
    const fg = rgba(svg ? st.fill : st.color);
    if (!fg) continue;
    const bg = background(el);
    const text = over([fg[0], fg[1], fg[2], fg[3] * alpha], bg);
    const [a, b] = [lum(text), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) failing.push([name(el), Math.round(ratio * 100) / 100, needed,
                                      el.textContent.trim().slice(0, 40)]);
  }
  return failing;
}"""
SIDEWAYS_JS = "() => document.scrollingElement.scrollWidth - window.innerWidth"


async def check_page(page: Any, url: str) -> list[str]:
    """The page's contrast failures at the default size, and any sideways scroll at a
    phone's and a wall screen's size; each as one line naming the page."""
    response = await page.goto(url)
    assert response.status == 200, url
    found = [f"{url}: {sel} {ratio}:1 < {needed}:1 ({text!r})"
             for sel, ratio, needed, text in await page.evaluate(CONTRAST_JS)]  # fmt: skip
    for size in (PHONE, WALL):
        await page.set_viewport_size(size)
        if (extra := await page.evaluate(SIDEWAYS_JS)) > 0:
            found.append(f"{url}: scrolls {extra} px sideways at {size['width']} px")
    await page.set_viewport_size({"width": 1280, "height": 720})
    return found


async def test_every_page_reads_at_aa_contrast_on_a_phone_and_a_wall(
    page: Any, records: Records, stack: Stack, tmp_path: Path
) -> None:
    """Signed out: the sign-in and code sign-in pages; signed in as the team lead: the live
    board and its wall view, /d/<code>, the rota, the huddle, the client page, the incident
    list and one incident. No text below AA, nothing sideways at 360 or 1920 px; the wall
    view's type is larger than the normal board's at 1920 px."""
    base = records.base
    failures = [*await check_page(page, f"{base}/console/login"),
                *await check_page(page, f"{base}/console/login/code")]  # fmt: skip
    await sign_in(page, base, LEAD)
    for path in ("/console/", "/console/?wall=1", f"/d/{records.open_code}", "/console/rota",
                 "/console/huddle", f"/console/clients/{CLIENT}", "/console/review",
                 f"/console/review/incidents/{records.incident}"):  # fmt: skip
        failures += await check_page(page, base + path)
    assert failures == [], "\n".join(failures)
    # The check itself: a grey line on the page's white is reported with its ratio.
    await page.evaluate("""() => { const p = document.createElement('p');
        p.id = 'probe'; p.textContent = 'grey on white'; p.style.color = '#999';
        document.querySelector('main').append(p); }""")
    assert await page.evaluate(CONTRAST_JS) == [["p#probe", 2.85, 4.5, "grey on white"]]

    await page.set_viewport_size(WALL)
    size = "() => parseFloat(getComputedStyle(document.body).fontSize)"
    await page.goto(f"{base}/console/")
    normal = await page.evaluate(size)
    await page.goto(f"{base}/console/?wall=1")
    await page.locator(f"#d-{records.open_code}").wait_for(timeout=WAIT_MS)
    wall = await page.evaluate(size)
    assert wall > normal >= 16
    smallest = """() => Math.min(...[...document.querySelectorAll('main *')]
        .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
    assert await page.evaluate(smallest) >= wall  # no smaller print on the wall board
    shot = shot_path("console-wall.png", tmp_path)
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert errors(page) == []


async def test_sign_in_and_take_a_dispatch_by_keyboard_alone(page: Any, records: Records) -> None:
    """The sign-in form filled and sent with keys only; on the board, Tab reaches the
    waiting dispatch's Take button, which shows a focus ring; Enter takes it and the row
    says so without reload."""
    await page.goto(f"{records.base}/console/login")
    focused = "() => document.activeElement && document.activeElement.id"
    assert await page.evaluate(focused) == "account"  # autofocus
    await page.keyboard.type(LEAD)
    await page.keyboard.press("Tab")
    assert await page.evaluate(focused) == "password"
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/console/")
    await page.evaluate("window.__sameDocument = true")

    take = page.locator(f"#d-{records.open_code} button.take")
    await take.wait_for(timeout=WAIT_MS)
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await take.evaluate("b => b === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the Take button")
    ring = await take.evaluate("""b => { const s = getComputedStyle(b);
        return b.matches(':focus-visible') && ((s.outlineStyle !== 'none'
               && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'); }""")
    assert ring, "the focused Take button shows no focus ring"
    await page.keyboard.press("Enter")
    await page.locator("#said").filter(has_text=f"{records.open_code} is yours.").wait_for()
    taken = page.locator(f"#d-{records.open_code} .state.taken")
    await taken.wait_for(timeout=WAIT_MS)
    assert "Taken by Harbour lead" in await taken.inner_text()
    assert await page.evaluate("window.__sameDocument") is True
    assert await page.evaluate(CONTRAST_JS) == []  # the taken row and the notice too
    assert errors(page) == []
