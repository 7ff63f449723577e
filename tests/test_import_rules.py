"""The arrows between packages, read from the source with `ast`.

core is pure (stdlib, pydantic, cryptography; no Qt, SQL, HTTP or camera) and
neither program imports the other. Every `import`, `from ... import`
(relative ones resolved), `importlib.import_module("...")` and
`__import__("...")` with a literal name counts, wherever it sits in the file
(inside functions and `if TYPE_CHECKING:` blocks too).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "server", "kiosk")

QT = ("PySide2", "PySide6", "PyQt5", "PyQt6", "shiboken2", "shiboken6", "qtpy")
FORBIDDEN: dict[str, dict[str, str]] = {
    "core": {
        **dict.fromkeys(QT, "Qt"),
        "sqlalchemy": "SQL",
        "alembic": "migrations",
        "httpx": "HTTP",
        "fastapi": "HTTP",
        "starlette": "HTTP",
        "cv2": "the camera",
        "server": "a program",
        "kiosk": "a program",
    },
    "kiosk": {"server": "the other program"},
    "server": {"kiosk": "the other program"},
}
CORE_ALLOWED = frozenset(sys.stdlib_module_names) | {
    "__future__",
    "core",
    "pydantic",
    "pydantic_core",
    "annotated_types",  # pydantic's own metadata types (core.limits groups its constraints)
    "cryptography",
}


@dataclass(frozen=True)
class Imported:
    """One imported module, absolute, with where it was imported."""

    module: str
    line: int

    @property
    def top(self) -> str:
        """The top-level package name."""
        return self.module.partition(".")[0]


def _resolve(node: ast.ImportFrom, module_name: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module_name.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, node.module] if node.module else base)


def _dynamic_import(node: ast.Call) -> str | None:
    func = node.func
    is_import_module = isinstance(func, ast.Attribute) and func.attr == "import_module"
    is_dunder = isinstance(func, ast.Name) and func.id in ("__import__", "import_module")
    if (is_import_module or is_dunder) and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def imports_of(source: str, module_name: str, *, is_package: bool = False) -> list[Imported]:
    """Every module a source imports, relative imports made absolute."""
    found: list[Imported] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(Imported(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append(Imported(_resolve(node, module_name, is_package), node.lineno))
        elif isinstance(node, ast.Call) and (name := _dynamic_import(node)):
            found.append(Imported(name, node.lineno))
    return found


def violations_in_source(
    source: str, module_name: str, *, is_package: bool = False, where: str | None = None
) -> list[str]:
    """The rule breaks in one source file, as readable lines."""
    package = module_name.partition(".")[0]
    where = where or module_name
    try:
        imported = imports_of(source, module_name, is_package=is_package)
    except SyntaxError as exc:
        return [f"{where}:{exc.lineno}: does not parse, so its imports cannot be checked"]
    problems = []
    for item in imported:
        why = FORBIDDEN.get(package, {}).get(item.top)
        if why is not None:
            problems.append(f"{where}:{item.line}: {package} imports {item.module} ({why})")
        elif package == "core" and item.top not in CORE_ALLOWED:
            problems.append(
                f"{where}:{item.line}: core imports {item.module}, "
                "outside stdlib + pydantic + cryptography"
            )
    return problems


def package_files(package: str) -> list[Path]:
    """Every .py file of a package in this checkout."""
    return sorted(
        path for path in (ROOT / package).rglob("*.py") if "__pycache__" not in path.parts
    )


def violations_in_package(package: str) -> list[str]:
    """The rule breaks in every file of a package."""
    problems = []
    for path in package_files(package):
        relative = path.relative_to(ROOT)
        is_package = path.name == "__init__.py"
        parts = relative.with_suffix("").parts
        module_name = ".".join(parts[:-1] if is_package else parts)
        source = path.read_text(encoding="utf-8")
        problems.extend(
            violations_in_source(source, module_name, is_package=is_package, where=str(relative))
        )
    return problems


# ------------------------------------------------------------------------------- the rules


def test_every_package_is_found() -> None:
    for package in PACKAGES:
        assert (ROOT / package / "__init__.py") in package_files(package)
    assert (ROOT / "core" / "tokens.py") in package_files("core")


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_follow_the_arrows(package: str) -> None:
    problems = violations_in_package(package)
    assert problems == [], "\n".join(problems)


# --------------------------------------------------------------------- the checker itself


@pytest.mark.parametrize(
    ("module", "source", "complaint"),
    [
        ("core.scan", "import PySide6.QtCore\n", "core imports PySide6.QtCore (Qt)"),
        ("core.scan", "from sqlalchemy import select\n", "core imports sqlalchemy (SQL)"),
        ("core.scan", "def f():\n    import httpx\n", "core.scan:2: core imports httpx (HTTP)"),
        ("core.scan", "import fastapi, json\n", "core imports fastapi (HTTP)"),
        ("core.scan", "import cv2 as cv\n", "core imports cv2 (the camera)"),
        ("core.scan", "import alembic.op\n", "core imports alembic.op (migrations)"),
        ("core.scan", "from kiosk.store import db\n", "core imports kiosk.store (a program)"),
        ("core.scan", "from server import api\n", "core imports server (a program)"),
        ("core.scan", "import numpy\n", "core imports numpy, outside stdlib"),
        (
            "core.scan",
            "import typing\nif typing.TYPE_CHECKING:\n    import httpx\n",
            "core imports httpx",
        ),
        (
            "core.scan",
            "import importlib\nimportlib.import_module('sqlalchemy.orm')\n",
            "core imports sqlalchemy.orm",
        ),
        ("core.scan", "__import__('PySide6')\n", "core imports PySide6"),
        ("kiosk.sync.client", "from server.sync import reconcile\n", "kiosk imports server.sync"),
        ("server.api.sync", "import kiosk.store\n", "server imports kiosk.store"),
        ("kiosk.ui.door", "from ...server import x\n", "kiosk imports server"),
        ("server.api.sync", "def broken(:\n", "does not parse"),
    ],
)
def test_checker_flags_synthetic_bad_sources(module: str, source: str, complaint: str) -> None:
    problems = violations_in_source(source, module)
    assert any(complaint in problem for problem in problems), problems


def test_checker_resolves_relative_imports() -> None:
    source = "from . import tokens\nfrom .. import kiosk\nfrom ..store import cache\n"
    names = [i.module for i in imports_of(source, "kiosk.ui.door")]
    assert names == ["kiosk.ui", "kiosk", "kiosk.store"]
    package_names = [i.module for i in imports_of("from . import x\n", "core", is_package=True)]
    assert package_names == ["core"]


def test_checker_accepts_clean_sources() -> None:
    core = (
        "from __future__ import annotations\nimport json, uuid\nfrom datetime import UTC\n"
        "from pydantic import BaseModel\nfrom cryptography.exceptions import InvalidSignature\n"
        "from core.reasons import Reason\nfrom . import tokens\n"
    )
    assert violations_in_source(core, "core.wire") == []
    kiosk = "from PySide6.QtWidgets import QWidget\nimport httpx\nfrom core.wire import Op\n"
    assert violations_in_source(kiosk, "kiosk.ui.door") == []
    server = "from fastapi import APIRouter\nimport sqlalchemy\nfrom core.tiers import PointTier\n"
    assert violations_in_source(server, "server.api.tiers") == []
