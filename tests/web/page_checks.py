"""Checks a plant manager would make by eye, run in the page: nothing drawn outside its box,
no label broken into a column of characters, no text cut off, no word of the other language."""

from __future__ import annotations

from playwright.sync_api import Page
from untranslated import problems

_VISIBLE = """
const visible = el => {
  const r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return false;
  const cs = getComputedStyle(el);
  return cs.visibility !== 'hidden' && cs.display !== 'none' && cs.opacity !== '0';
};
const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
  (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
  ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
"""

OUTSIDE = (
    "() => {"
    + _VISIBLE
    + """
  // the boxes a reader sees as containers; uPlot's cursor parts park off the plot on purpose
  const BOXES = '.card, .kpi, td, th, button, .btn, .pill, .badge, .chip, .chart, .plot, ' +
    '.cal-row, .cal-label, header.top, main, .fact, .tabs a, nav.main a, .u-legend, form, li';
  const SKIP = '.u-cursor-x, .u-cursor-y, .u-cursor-pt, .u-select, .popover, option';
  const boxOf = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (!p.matches(BOXES)) continue;
      const d = getComputedStyle(p).display;
      if (d !== 'contents' && d !== 'inline') return p;
    }
    return null;
  };
  const clipped = (el, box) => {
    for (let p = el.parentElement; p && p !== box; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') return true;
    }
    return false;
  };
  const out = [];
  if (document.documentElement.scrollWidth > innerWidth + 1)
    out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + innerWidth);
  for (const el of document.querySelectorAll('body *')) {
    if (['SCRIPT', 'STYLE', 'TITLE'].includes(el.tagName) || el.matches(SKIP) || !visible(el)) continue;
    const box = boxOf(el);
    if (!box || clipped(el, box)) continue;
    const a = el.getBoundingClientRect(), b = box.getBoundingClientRect(), t = 1.5;
    if (a.left < b.left - t || a.right > b.right + t || a.top < b.top - t || a.bottom > b.bottom + t)
      out.push(describe(el) + ' is drawn outside ' + describe(box));
  }
  return out;
}"""
)

WRAPPED = (
    "() => {"
    + _VISIBLE
    + """
  const SHORT = 'button, .btn, .pill, .chip, .badge, .sev, .tabs a, nav.main a, th, .kpi .k, ' +
    '.legend li, .who, .langs a, summary, .fact .k, .alarm-count';
  const out = [];
  for (const el of document.querySelectorAll(SHORT)) {
    if (!visible(el) || !(el.textContent || '').trim()) continue;
    const r = document.createRange();
    r.selectNodeContents(el);
    const rects = Array.from(r.getClientRects()).filter(x => x.width > 0 && x.height > 0);
    if (!rects.length) continue;
    const top = Math.min(...rects.map(x => x.top)), bottom = Math.max(...rects.map(x => x.bottom));
    const line = parseFloat(getComputedStyle(el).fontSize) * 1.6;
    if (bottom - top > line * 1.5) out.push(describe(el) + ' wraps onto ' + Math.round((bottom - top) / line * 1.2) + ' lines');
  }
  return out;
}"""
)

CUT = (
    "() => {"
    + _VISIBLE
    + """
  const out = [];
  for (const el of document.querySelectorAll('ul.bars .lbl, .chart .title .name, .job, .cal-label b, td, th, button, .btn, .chip, .pill, .badge')) {
    if (!visible(el)) continue;
    const cs = getComputedStyle(el);
    const short = el.matches('button, .btn, .chip, .pill, .badge');
    if (!short && cs.overflowX === 'visible' && cs.textOverflow !== 'ellipsis') continue;
    if (el.scrollWidth > el.clientWidth + 1) out.push(describe(el) + ' is cut: ' + el.scrollWidth + ' > ' + el.clientWidth);
  }
  return out;
}"""
)

TEXTS = """(lang) => {
  const out = [];
  const off = el => el.closest('[translate=no], script, style, title') ||
    Array.from(el.closest('[lang]') ? [el.closest('[lang]')] : []).some(x => x.lang !== lang);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode, el = n.parentElement;
    if (!el || off(el) || !n.textContent.trim()) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 && r.height < 1 && el.tagName !== 'OPTION') continue;
    out.push(n.textContent);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], button[title], .mini[title]')) {
    if (off(el)) continue;
    for (const k of ['placeholder', 'aria-label', 'title']) if (el.getAttribute(k)) out.push(el.getAttribute(k));
  }
  return out;
}"""


def layout_problems(page: Page) -> list[str]:
    return page.evaluate(OUTSIDE) + page.evaluate(WRAPPED) + page.evaluate(CUT)


def language_problems(page: Page, lang: str) -> list[str]:
    return problems(page.evaluate(TEXTS, lang), lang)
