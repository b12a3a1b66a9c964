"""Fixtures of the console tests: fixed clock and data, no cursor blink, a private log dir."""

from __future__ import annotations

import pytest
from textual.widgets import Input


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes snapshots flaky."""
    monkeypatch.setattr(Input, "cursor_blink", False, raising=False)
