#!/usr/bin/env python3
"""Build an archive of Norwegian news articles to try `multitrans batch` on (the tests use it too).

Every article is made of real Norwegian text: the paragraphs and headings of the sample
article (examples/em24-2023-10-16-nord-korea-ammunisjon.txt) and of excerpts of the
Norwegian constitution (examples/grunnloven-utdrag.txt; statutes are in the public
domain), framed like the magazine's articles (the English header and footer lines, the
no-break-space separator lines, a date line).  Each article has its own title and its
own figures, so the archive holds shared and unique sentences as a real one does; one in
ten is Markdown.  Articles go into year/month folders.  The output depends only on the
arguments: the same call writes the same bytes.

    python scripts/make_archive.py archive/ --count 200
    multitrans batch archive/ --to nn,da,sv --out translations/ --offline
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "em24-2023-10-16-nord-korea-ammunisjon.txt"
CONSTITUTION = ROOT / "examples" / "grunnloven-utdrag.txt"
SEPARATOR = "\n\n\u00a0\n\n"  # the magazine's blank line holding a no-break space
_BLANK = re.compile(r"^[\s\u00a0]*$")
_CLOSING = tuple(".!?:;,…\"'»”’)]")


def _blocks(path: Path) -> list[str]:
    """The file's non-blank blocks (runs of lines between blank lines)."""
    blocks, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if _BLANK.match(line):
            if current:
                blocks.append("\n".join(current))
                current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _is_heading(block: str) -> bool:
    return "\n" not in block and len(block) <= 80 and not block.endswith(_CLOSING)


def _sources() -> tuple[str, str, list[str], list[str]]:
    """(English header, English footer, Norwegian headings, Norwegian paragraphs)."""
    sample = _blocks(SAMPLE)
    header, footer = sample[0], sample[-1]
    body = [b for b in sample[1:-1] if not re.fullmatch(r"[\d/]+", b)]
    body += _blocks(CONSTITUTION)[1:]
    headings = [b for b in body if _is_heading(b) and not b.startswith("Featured image")]
    paragraphs = [b for b in body if not _is_heading(b)]
    return header, footer, headings, paragraphs


def _with_figures(paragraph: str, rng: random.Random) -> str:
    """The paragraph with its figures changed as another article's would be (1.000 → 3.400)."""
    return re.sub(r"\b1\.000\b", lambda _: f"{rng.randint(2, 9)}.{rng.randint(1, 9)}00", paragraph)


def article(number: int, rng: random.Random) -> tuple[str, str]:
    """(relative path, text) of article `number`."""
    header, footer, headings, paragraphs = _sources()
    month = 1 + number % 12
    day = 1 + number % 28
    title = f"{rng.choice(headings)}: del {number}"
    chosen = rng.sample(paragraphs, rng.randint(3, 6))
    chosen = [_with_figures(p, rng) if rng.random() < 0.5 else p for p in chosen]
    subheading = rng.choice(headings)
    body = [*chosen[:2], subheading, *chosen[2:]]
    date = f"{day:02d}/{month:02d}/2023"
    folder = f"2023/{month:02d}"
    if number % 10 == 0:
        lines = [f"# {title}", "", f"*{header}*", ""]
        for block in body:
            lines += [f"## {block}" if _is_heading(block) else block, ""]
        lines += [date, "", f"**{footer}**", ""]
        return f"{folder}/artikkel-{number:03d}.md", "\n".join(lines)
    text = SEPARATOR.join([header, title, *body, date]) + SEPARATOR + footer
    return f"{folder}/artikkel-{number:03d}.txt", text


def build_archive(out: Path, count: int = 200, seed: int = 2023) -> Path:
    """Write `count` articles under `out` and return `out`."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        relative, text = article(number, rng)
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the archive into")
    parser.add_argument("--count", type=int, default=200, help="number of articles (default 200)")
    parser.add_argument("--seed", type=int, default=2023, help="seed of the choices (default 2023)")
    args = parser.parse_args()
    build_archive(args.out, args.count, args.seed)
    print(f"wrote {args.count} articles to {args.out}")


if __name__ == "__main__":
    main()
