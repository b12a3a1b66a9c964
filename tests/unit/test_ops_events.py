"""The event vocabulary: immutable, hashable, one readable line each, and no Textual import."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from mcloud_tui.ops.events import (
    DeploymentInfo,
    Error,
    HostHealth,
    HostLog,
    LeaderChanged,
    ListSink,
    NodeInfo,
    PhaseFinished,
    PhaseStarted,
    ResourceProgress,
    SmokeStep,
    format_event,
)

EXAMPLES = [
    PhaseStarted("deploy"),
    PhaseFinished("deploy", False, "see errors above", 1.5),
    HostLog("gcp", "ansible", "changed: Start the services (worker)"),
    HostLog(None, "terraform", "Plan: 3 to add", "warning"),
    ResourceProgress("aws", "terraform_data.aws_node", "create", "complete"),
    HostHealth("aws", "up", "up", "up", role="leader", term=3, commit_index=12, leader="127.0.1.1:7000"),
    LeaderChanged("gcp", "127.0.2.1:7000", 4),
    SmokeStep("matmul", "azure", True, "worker-azure cpu"),
    DeploymentInfo("local", "mcloud-local", {"aws": NodeInfo("aws", "127.0.1.1")}, 1700000000.0),
    Error("port 127.0.1.1:8080 is already in use", host="aws", hint="stop it"),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_event_is_frozen_hashable_and_one_line(event) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.ts = 0  # type: ignore[misc]
    hash(event)
    line = format_event(event)
    assert line and "\n" not in line


def test_lines_name_the_host_and_the_outcome() -> None:
    assert format_event(HostLog("gcp", "ansible", "ok: x")).startswith("[gcp]")
    assert "FAIL" in format_event(SmokeStep("storage", "aws", False, "boom"))
    assert "PASS" in format_event(SmokeStep("storage", "aws", True))
    assert "FAILED" in format_event(PhaseFinished("verify", False))
    assert "hint: stop it" in format_event(EXAMPLES[-1])


def test_list_sink_filters_by_type() -> None:
    sink = ListSink()
    for e in EXAMPLES:
        sink(e)
    assert sink.of(SmokeStep) == [EXAMPLES[7]]


def test_ops_core_imports_without_textual() -> None:
    code = (
        "import sys; import mcloud_tui.ops.core, mcloud_tui.ops.engine, mcloud_tui.__main__; "
        "sys.exit(1 if 'textual' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
