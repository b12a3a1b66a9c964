"""Fixtures for the static infrastructure checks."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fake_terraform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `terraform` stand-in whose `output -json` prints $FAKE_TF_OUTPUT (or fails with $FAKE_TF_FAIL)."""
    bindir = tmp_path_factory.mktemp("fake-terraform")
    script = bindir / "terraform"
    script.write_text(
        "#!/bin/sh\n"
        'if [ -n "$FAKE_TF_FAIL" ]; then echo "$FAKE_TF_FAIL" >&2; exit 1; fi\n'
        'cat "$FAKE_TF_OUTPUT"\n'
    )
    script.chmod(0o755)
    return bindir
