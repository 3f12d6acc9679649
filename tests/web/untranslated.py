"""What counts as an untranslated word on a page, shared by the in-process and browser checks.

A page in Chinese may show Latin letters only inside ``translate="no"`` (names people gave
things, ids, channel tags, free text) and as the symbols listed here; a page in English may show
Chinese only inside an element whose ``lang`` says so (the language switch).
"""

from __future__ import annotations

import re

# Symbols and abbreviations that are the same in both languages.
ALLOWED_LATIN = {
    "P5", "P10", "P25", "P50", "P75", "P90", "P95", "CSV", "PNG", "API", "UTC", "MAPSS",
    "mm", "psia", "kPa", "bar", "Hz", "kW", "A", "V", "K", "pk",
}  # fmt: skip
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Message ids that leaked (an old-style key, a placeholder left unfilled).
LEAKS = re.compile(r"\b[a-z]+\.[a-z_]+\b|%\(\w+\)[sd]|\{\w+\}")


def problems(texts: list[str], lang: str) -> list[str]:
    """The texts (visible, outside translate="no") that are not in ``lang``."""
    bad = []
    for t in texts:
        t = t.strip()
        if not t:
            continue
        if LEAKS.search(t):
            bad.append(t)
        elif lang == "zh-CN":
            words = [w for w in LATIN_WORD.findall(t) if w not in ALLOWED_LATIN and len(w) > 1]
            if words:
                bad.append(t)
        elif CJK.search(t):
            bad.append(t)
    return bad
