"""``idp/policy/`` stays pure (DESIGN.md §3): no database, no Flask, no clock reads, no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import idp.policy

POLICY_DIR = Path(idp.policy.__file__).parent
ALLOWED_IMPORTS = {
    "__future__", "collections", "dataclasses", "enum", "json", "typing", "urllib", "idna", "idp.errors", "idp.policy",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "open", "getenv"}


def _modules() -> list[Path]:
    return sorted(POLICY_DIR.glob("*.py"))


def test_policy_modules_import_only_pure_libraries() -> None:
    assert len(_modules()) >= 6
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert any(name == ok or name.startswith(ok + ".") for ok in ALLOWED_IMPORTS), (path.name, name)


def test_policy_modules_read_no_clock_and_do_no_io() -> None:
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                assert name not in FORBIDDEN_CALLS, (path.name, name, node.lineno)


def test_public_api_is_exported() -> None:
    for name in idp.policy.__all__:
        assert getattr(idp.policy, name) is not None
    assert idp.policy.invitation_decision.__doc__
