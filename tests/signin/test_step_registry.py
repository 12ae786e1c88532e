"""The step registry: built-in order, insertion after/before a named step, one step per name."""

from __future__ import annotations

import pytest
from flask import Flask

from idp.signin.steps import Step, register_step, registered_steps


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def is_needed(self, flow: dict) -> bool:
        return False

    def start(self, flow: dict) -> str:
        return ""


def test_built_in_order_and_insertion(app: Flask) -> None:
    assert [s.name for s in registered_steps(app)] == ["policy", "mfa", "consent"]
    register_step(app, Named("terms"), after="mfa")
    register_step(app, Named("checks"), before="terms")
    register_step(app, Named("audit"))
    assert [s.name for s in registered_steps(app)] == ["policy", "mfa", "checks", "terms", "consent", "audit"]
    assert all(isinstance(s, Step) for s in registered_steps(app))


def test_one_step_per_name(app: Flask) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_step(app, Named("policy"))
