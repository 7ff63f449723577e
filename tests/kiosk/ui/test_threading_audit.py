"""Cross-thread calls go through bound slots: no lambda or partial is ever connected to a signal.

A lambda connected to a worker's signal runs on the emitting thread (only a
bound `@Slot` method of a QObject living in the GUI thread is queued there),
so `widget.setText` in such a lambda touches a widget off the GUI thread. The
rule is kept simple and checked on the source: `.connect(...)` in `kiosk/`
takes a bound method or a signal, never a lambda or `functools.partial`.
"""

from __future__ import annotations

import ast
from pathlib import Path

KIOSK = Path(__file__).resolve().parents[3] / "kiosk"


def _bad_connects(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "connect"
        ):
            continue
        for arg in node.args:
            called = arg.func if isinstance(arg, ast.Call) else None
            partial = isinstance(called, ast.Name | ast.Attribute) and (
                getattr(called, "id", None) == "partial"
                or getattr(called, "attr", None) == "partial"
            )
            if isinstance(arg, ast.Lambda) or partial:
                lines.append(node.lineno)
    return lines


def test_the_audit_finds_a_lambda_and_a_partial() -> None:
    source = "w.failed.connect(lambda m: label.setText(m))\nw.done.connect(partial(f, 1))\n"
    assert _bad_connects(ast.parse(source)) == [1, 2]
    assert _bad_connects(ast.parse("w.failed.connect(self.show_problem)")) == []


def test_no_lambda_or_partial_is_connected_anywhere_in_the_kiosk() -> None:
    files = sorted(KIOSK.rglob("*.py"))
    assert len(files) > 20
    found = {
        f"{path.relative_to(KIOSK.parent)}:{line}"
        for path in files
        for line in _bad_connects(ast.parse(path.read_text(), str(path)))
    }
    assert found == set()
