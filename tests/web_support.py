"""Shared by the browser tests: a real headless Chromium (Debian `chromium`, driven by Playwright; no
downloads), error collection, layout checks and screenshots under test-artifacts/ (gitignored)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("REASONLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def launch_browser():
    """Generator for a module-scoped fixture: yields a Chromium browser or skips."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run scripts/install-system-deps.sh (Debian package 'chromium')")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is in the dev extra")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def collect_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # nothing may be fetched from anywhere but this server
    page.on("request", lambda r: errors.append(f"external request {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    return errors


# Elements whose text must stay on one line (a header broken mid-word reads as "inde x").
ONE_LINE = "th, header h1, header label, .panel > h3, #options-form .option > label, .thought b, .call .head b"

_BROKEN_JS = """(sel) => {
  const bad = [];
  for (const e of document.querySelectorAll(sel)) {
    if (!e.offsetParent || !e.textContent.trim()) continue;
    const r = document.createRange();
    const text = [...e.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
    for (const t of text) {
      r.selectNodeContents(t);
      const tops = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
      if (tops.size > 1) bad.push(e.textContent.trim());
    }
  }
  return bad;
}"""


def broken_headers(page) -> list[str]:
    """Texts of headers/labels that wrap onto a second line."""
    return page.evaluate(_BROKEN_JS, ONE_LINE)


def overflow(page) -> list[str]:
    """Elements wider than the viewport (sideways scrolling on a phone), as short descriptions."""
    return page.evaluate("""() => {
      const out = [];
      const w = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth > w + 1) out.push(`document ${document.documentElement.scrollWidth}px`);
      for (const e of document.querySelectorAll('#messages, .bubble, .panel, header, #composer')) {
        const r = e.getBoundingClientRect();
        if (r.right > w + 1 || (getComputedStyle(e).overflowX !== 'auto' && e.scrollWidth > e.clientWidth + 1))
          out.push(`${e.tagName.toLowerCase()}.${e.className} ${Math.round(r.right)}/${w} scroll ${e.scrollWidth}/${e.clientWidth}`);
      }
      return out;
    }""")


def shoot(page, name: str) -> Path:
    """Screenshot of the whole conversation: the window is made as tall as the scrolled messages."""
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    tall = page.evaluate("() => { const m = document.querySelector('#messages');"
                         " return document.documentElement.clientHeight - m.clientHeight + m.scrollHeight; }")
    page.set_viewport_size({"width": size["width"], "height": min(max(tall, size["height"]), 8000)})
    page.wait_for_timeout(100)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
