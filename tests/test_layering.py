"""The layering contract (STYLE habit 1), one test for the whole package: ``cli`` > ``app`` >
``core``. ``core`` imports neither ``app`` nor ``cli`` nor any Qt binding, anywhere (also
inside functions and under ``TYPE_CHECKING``); ``app`` never imports ``cli``. Checked twice:
statically over every module's import statements, and by importing every core module in a
fresh interpreter (which also catches Qt pulled in by a third-party package)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "colorme_live"
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "colorme_live.core": ("colorme_live.app", "colorme_live.cli", *QT),
    "colorme_live.app": ("colorme_live.cli",),
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, relative ones resolved."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            found.append((node.lineno, base))
    return found


def violations(root: Path) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        for layer, banned in FORBIDDEN.items():
            if module != layer and not module.startswith(layer + "."):
                continue
            for line, name in imports_of(path, root):
                for ban in banned:
                    if name == ban or name.startswith(ban + "."):
                        bad.append(
                            f"{path.relative_to(root.parent)}:{line}: {module} imports {name}"
                        )
    return sorted(set(bad))


def test_layers_import_only_downwards() -> None:
    assert violations(PACKAGE) == []


def test_the_contract_catches_a_violation(tmp_path: Path) -> None:
    """The checker itself: each kind of forbidden import, written the ways Python allows."""
    root = tmp_path / "colorme_live"
    (root / "core").mkdir(parents=True)
    (root / "app").mkdir()
    for init in (root / "__init__.py", root / "core" / "__init__.py", root / "app" / "__init__.py"):
        init.write_text("")
    (root / "core" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from PySide6.QtCore import QObject\n"
        "def f():\n    import shiboken6\n"
        "from ..app import window\n"
        "from colorme_live import cli\n"
    )
    (root / "app" / "b.py").write_text("from .. import cli\nimport numpy\n")
    (root / "core" / "ok.py").write_text("from . import a\nimport cv2\n")
    found = violations(root)
    assert found == [
        "colorme_live/app/b.py:1: colorme_live.app.b imports colorme_live.cli",
        "colorme_live/core/a.py:3: colorme_live.core.a imports PySide6.QtCore",
        "colorme_live/core/a.py:3: colorme_live.core.a imports PySide6.QtCore.QObject",
        "colorme_live/core/a.py:5: colorme_live.core.a imports shiboken6",
        "colorme_live/core/a.py:6: colorme_live.core.a imports colorme_live.app",
        "colorme_live/core/a.py:6: colorme_live.core.a imports colorme_live.app.window",
        "colorme_live/core/a.py:7: colorme_live.core.a imports colorme_live.cli",
    ], found


def test_importing_all_of_core_loads_no_qt() -> None:
    code = (
        "import importlib, pkgutil, sys, colorme_live.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module(f'colorme_live.core.{m.name}')\n"
        f"qt = sorted(n for n in sys.modules if n.split('.')[0] in {QT!r})\n"
        "up = ('colorme_live.app', 'colorme_live.cli')\n"
        "app = sorted(n for n in sys.modules if n.startswith(up))\n"
        "print(qt + app)\n"
        "sys.exit(1 if qt or app else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]


def _type_only_lines(path: Path) -> set[int]:
    """Lines of the imports under ``if TYPE_CHECKING:`` (for annotations only: no cycle at
    run time)."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        test = node.test if isinstance(node, ast.If) else None
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        lines.add(sub.lineno)
    return lines


def core_import_cycles(root: Path) -> list[list[str]]:
    """Cycles among ``core``'s modules. Imports anywhere in a file count, also inside
    functions (a function-level import is how a cycle is usually hidden); only those under
    ``if TYPE_CHECKING:`` do not."""
    core = root / "core"
    modules = {_module_name(p, root): p for p in core.rglob("*.py") if p.name != "__init__.py"}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        type_only = _type_only_lines(path)
        for line, name in imports_of(path, root):
            if line in type_only:
                continue
            while name and name not in modules:  # "core.model.X" -> "core.model"
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_core_modules_import_each_other_without_cycles() -> None:
    """model.py resolves and validates the models, so it imports the segmenter and the face
    detector; neither imports it back (they used to, through a function-level import)."""
    assert core_import_cycles(PACKAGE) == []


def test_the_cycle_check_finds_a_hidden_cycle(tmp_path: Path) -> None:
    root = tmp_path / "colorme_live"
    (root / "core").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "core" / "__init__.py").write_text("")
    (root / "core" / "a.py").write_text("from colorme_live.core.b import X\n")
    (root / "core" / "b.py").write_text("def f():\n    from colorme_live.core import a\n")
    (root / "core" / "c.py").write_text(
        "from colorme_live.core import a\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from colorme_live.core.d import Y\n"
    )
    (root / "core" / "d.py").write_text("from colorme_live.core import c\n")
    assert core_import_cycles(root) == [
        ["colorme_live.core.a", "colorme_live.core.b", "colorme_live.core.a"]
    ]
