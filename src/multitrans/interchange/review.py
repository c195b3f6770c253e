"""The review page: one self-contained HTML file with the source and every translation side by side.

An editor checking twenty languages reads one page instead of opening twenty files:
one row per block, the source in the first column and one column per target language,
each cell naming the engine and model that wrote it.  Cells whose block carries quality
flags, or that no engine could translate, are highlighted and list why.  Columns of
right-to-left languages are `dir="rtl"`, and every cell carries its language in `lang`
(so the browser picks fonts and hyphenation per language).

The page is built from aligned records (`DocumentResult.records()`, or the
`aligned/<name>.jsonl` a `translate` run wrote), so what is reviewed is exactly what was
published.  Texts are escaped: a block's inline markup shows as markup, and nothing in
an article can run as script on the reviewer's page.  There are no external resources,
no script and no timestamp: the same records give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..languages import is_rtl
from ..languages import name as language_name

_STYLE = """
:root { color-scheme: light; --cell: 26rem; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", system-ui, sans-serif; color: #1d1d1f; background: #fff; }
header { padding: 14px 18px; border-bottom: 1px solid #c9c9cf; }
h1 { font-size: 20px; margin: 0 0 4px; }
header p { margin: 2px 0; color: #4a4a52; }
.legend span { display: inline-block; padding: 0 8px; margin-inline-end: 8px; border-radius: 3px; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; table-layout: fixed; }
th, td { border: 1px solid #d4d4da; padding: 8px 10px; vertical-align: top; text-align: start; width: var(--cell); }
th.n, td.n { width: 4.5rem; }
thead th { position: sticky; top: 0; background: #eef0f4; z-index: 1; }
td.n { color: #6b6b75; font-size: 12px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
.meta { margin-top: 6px; font-size: 12px; color: #5d5d66; }
td.source { background: #f8f8fa; }
.flagged { background: #fff1c4; box-shadow: inset 4px 0 0 #d48a00; }
.untranslated { background: #fde2e2; box-shadow: inset 4px 0 0 #c62828; }
ul.flags { margin: 6px 0 0; padding-inline-start: 18px; font-size: 12px; color: #7a4a00; }
.untranslated ul.flags { color: #8e1b1b; }
"""


def read_aligned(path: str | Path) -> list[dict[str, Any]]:
    """The records of an aligned JSONL file, as `translate` writes it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise UserError(f"no such file: {path}") from exc
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{number}: not a JSON line: {exc.msg}") from exc
        if not isinstance(record, dict) or "source" not in record or "translations" not in record:
            raise UserError(f"{path}:{number}: not an aligned record (needs 'source' and 'translations')")
        records.append(record)
    if not records:
        raise UserError(f"{path} holds no aligned records")
    return records


def review_page(records: Sequence[dict[str, Any]], title: str, targets: Sequence[str] | None = None) -> str:
    """The review page for one document's aligned records; `targets` picks and orders the columns."""
    available = list(dict.fromkeys(lang for r in records for lang in r["translations"]))
    targets = [t for t in (targets or available) if t in available]
    if not targets:
        raise UserError(f"none of the requested languages is in the records (they hold {', '.join(available) or 'none'})")
    source_langs = list(dict.fromkeys(r["source"]["lang"] for r in records))
    flagged = sum(1 for r in records for t in targets if _problems(r["translations"][t]))
    rows = "\n".join(_row(r, targets) for r in records)
    heads = "".join(_head(t, f"{language_name(t)} ({t})") for t in targets)
    source_head = _head(source_langs[0], f"Source · {', '.join(f'{language_name(s)} ({s})' for s in source_langs)}",
                        "source")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Review: {escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>Review: {escape(title)}</h1>\n"
        f'<p class="summary">{len(records)} blocks · {len(targets)} languages · '
        f'<span class="flag-count">{flagged}</span> flagged cells</p>\n'
        '<p class="legend"><span class="flagged">quality flag</span><span class="untranslated">not translated</span></p>\n'
        "</header>\n"
        f'<div class="wrap">\n<table data-columns="{len(targets) + 2}">\n'
        f'<thead><tr><th class="n">#</th>{source_head}{heads}</tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody>\n</table>\n</div>\n</body>\n</html>\n"
    )


def _direction(lang: str) -> str:
    try:
        return "rtl" if is_rtl(lang) else "ltr"
    except ValueError:  # a code the language table lacks: render it left to right
        return "ltr"


def _head(lang: str, label: str, css: str = "target") -> str:
    return f'<th class="{css}" lang="{escape(lang)}" dir="{_direction(lang)}" data-lang="{escape(lang)}">{escape(label)}</th>'


def _problems(translation: dict[str, Any]) -> list[str]:
    """What the reviewer must look at: why a cell was not translated, what went wrong, its quality flags."""
    found: list[str] = []
    note = translation.get("note")
    if translation.get("engine") is None:
        found.append(note or "not translated")
    elif note and translation.get("engine") != "copy":
        found.append(note)
    for flag in translation.get("flags") or []:
        if flag.get("detail") != note:  # a flag that only repeats the note adds nothing
            found.append(f"{flag.get('code')}: {flag.get('detail')}")
    return found


def _row(record: dict[str, Any], targets: Sequence[str]) -> str:
    source = record["source"]
    cells = [
        f'<td class="n">{escape(str(record.get("id", "")))}<br>{escape(str(record.get("kind", "")))}</td>',
        f'<td class="source" lang="{escape(source["lang"])}" dir="{_direction(source["lang"])}">'
        f'<div class="text">{escape(source["text"])}</div><div class="meta">{escape(source["lang"])}</div></td>',
    ]
    for lang in targets:
        t = record["translations"][lang]
        problems = _problems(t)
        css = ["target"]
        if t.get("engine") is None:
            css.append("untranslated")
        elif problems:
            css.append("flagged")
        who = " · ".join(str(x) for x in (t.get("engine") or "none", t.get("model"), t.get("runtime")) if x)
        for number, hop in enumerate(t.get("hops") or (), 1):  # a pivot names both hops (and the bridge text)
            who += f"; hop {number}: " + " · ".join(str(x) for x in (hop.get("engine"), hop.get("model"), hop.get("runtime")) if x)
            if number == 1 and hop.get("text"):
                who += f" ({hop['text']})"
        flags = "".join(f"<li>{escape(p)}</li>" for p in problems)
        cells.append(
            f'<td class="{" ".join(css)}" lang="{escape(lang)}" dir="{_direction(lang)}" '
            f'data-engine="{escape(str(t.get("engine") or "none"))}" data-model="{escape(str(t.get("model") or ""))}">'
            f'<div class="text">{escape(t["text"])}</div><div class="meta">{escape(who)}</div>'
            + (f'<ul class="flags">{flags}</ul>' if flags else "")
            + "</td>"
        )
    return f'<tr id="b{escape(str(record.get("id", "")))}">{"".join(cells)}</tr>'
