"""The package reads as the pipeline: every import goes down the layers, so there is no cycle.

The layers, bottom to top, are the rooms of DESIGN.md; a module may import from its own
room and from any room below it, never from one above (lazy imports inside functions
included: a cycle through a lazy import is still a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import multitrans

PACKAGE = Path(multitrans.__file__).parent
# Bottom to top; rooms on one line are one level (they do not import each other).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("languages",),
    ("document",),
    ("inputs", "output"),
    ("engines",),
    ("config",),
    ("formats",),
    ("pipeline",),
    ("memory",),
    ("api",),
    ("archive",),
    ("interchange",),
    ("cli", "__main__"),
)
LEVEL = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}


def _room(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every multitrans import in the file."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    if parts[-1] == "__init__":
        package = parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [] if node.module else [alias.name for alias in node.names]
            else:
                module, names = node.module or "", []
            if module.split(".")[0] != "multitrans":
                continue
            if module == "multitrans" and names:
                found += [(node.lineno, f"multitrans.{name}") for name in names]
            else:
                found.append((node.lineno, module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "multitrans"]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down_the_layers(path: Path) -> None:
    room = _room(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
    assert room in LEVEL, f"{room} is in no layer: add it to LAYERS and to DESIGN.md's table"
    upward = []
    for line, module in _imports(path):
        target = _room(module)
        if target in ("", "__version__"):  # the package's version
            continue
        if LEVEL[target] > LEVEL[room]:
            upward.append(f"line {line}: {module}")
    assert not upward, f"{path.name} imports from a higher layer: {upward}"


def test_every_room_says_what_it_owns() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 12, f"{init.parent.name}/__init__.py needs a docstring saying what it owns"
