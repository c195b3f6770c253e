"""Drive Debian's headless Chromium from tests: a screenshot and the DOM after rendering.

Not a test module (no `test_` prefix); test files import it.  Every launch gets its own
profile directory and flags that keep Chromium off the network, so a test never waits
on a time-out or leaves state behind.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium; scripts/setup.sh does it)"
)
_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _run(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def screenshot(page: Path, png: Path, profile: Path, size: tuple[int, int] = (1280, 1600)) -> tuple[int, int]:
    """Render `page` and save a PNG; returns its (width, height) read from the PNG header."""
    _run(page, profile, f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", "--hide-scrollbars")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def dump_dom(page: Path, profile: Path) -> str:
    """The DOM as Chromium built it, serialized (`--dump-dom`)."""
    return _run(page, profile, "--dump-dom").stdout


def distinct_colours(png: Path, profile: Path) -> int:
    """How many colours the screenshot uses, counted in the browser itself (no image library needed).

    A blank or failed render has one or two; a page with text and highlights has many.
    """
    probe = png.with_suffix(".probe.html")
    probe.write_text(
        "<!DOCTYPE html><body><canvas id=c></canvas><script>"
        "const img = new Image(); img.onload = () => { const c = document.getElementById('c');"
        "c.width = img.width; c.height = img.height; const x = c.getContext('2d'); x.drawImage(img, 0, 0);"
        "const d = x.getImageData(0, 0, c.width, c.height).data; const seen = new Set();"
        "for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);"
        "document.body.setAttribute('data-colours', seen.size); };"
        f"img.src = {png.name!r};</script></body>",
        encoding="utf-8",
    )
    dom = _run(probe, profile, "--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom").stdout
    marker = 'data-colours="'
    assert marker in dom, dom[-500:]
    return int(dom.split(marker, 1)[1].split('"', 1)[0])


def evaluate(page: Path, expression: str, profile: Path, size: tuple[int, int] = (1600, 1200)) -> object:
    """Load `page` in a frame of a probe page and return the JSON value of `expression`,
    evaluated with `doc` bound to the page's document and `win` to its window.

    The page itself stays untouched (the review page has no script of its own); this is
    how a test asks the browser about layout: positions, computed direction."""
    import json

    probe = page.with_name(f".probe-{page.stem}.html")
    probe.write_text(
        f'<!DOCTYPE html><body style="margin:0"><iframe id=f src={page.name!r} '
        f'style="border:0;width:{size[0]}px;height:{size[1]}px"></iframe><script>'
        "document.getElementById('f').onload = () => { const win = document.getElementById('f').contentWindow;"
        " const doc = win.document; let value;"
        f" try {{ value = JSON.stringify({expression}); }} catch (e) {{ value = JSON.stringify('error: ' + e); }}"
        " const out = document.createElement('pre'); out.id = 'result'; out.textContent = value;"
        " document.body.appendChild(out); };</script></body>",
        encoding="utf-8",
    )
    dom = _run(probe, profile, "--allow-file-access-from-files", "--virtual-time-budget=5000",
               f"--window-size={size[0]},{size[1] + 200}", "--dump-dom").stdout
    root = __import__("lxml.html").html.fromstring(dom)
    found = root.get_element_by_id("result", None)
    assert found is not None, dom[-800:]
    return json.loads(found.text_content())
