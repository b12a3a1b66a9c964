"""Terraform's -json stream -> events tagged with the host each resource belongs to."""

from __future__ import annotations

import pytest

from mcloud_tui.ops.events import HostLog, ResourceProgress
from mcloud_tui.ops.hostmap import host_of
from mcloud_tui.ops.terraform import event_from_json


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("terraform_data.aws_node", "aws"),
        ('terraform_data.node["aws"]', "aws"),
        ("module.gcp.google_compute_instance.this", "gcp"),
        ("google_compute_address.node", "gcp"),
        ("module.azure_node.azurerm_linux_virtual_machine.vm", "azure"),
        ("azurerm_public_ip.x", "azure"),
        ("random_id.suffix", None),
        ("gcp", "gcp"),
        (None, None),
    ],
)
def test_host_of(text, host) -> None:
    assert host_of(text) == host


def _hook(kind: str, addr: str, **extra) -> dict:
    return {
        "@level": "info",
        "@message": f"{addr}: msg",
        "type": kind,
        "hook": {"resource": {"addr": addr}, "action": "create", **extra},
    }


def test_apply_events_carry_host_state_and_message() -> None:
    evs = event_from_json(_hook("apply_complete", "terraform_data.gcp_node", elapsed_seconds=3))
    prog = next(e for e in evs if isinstance(e, ResourceProgress))
    assert (prog.host, prog.state, prog.action, prog.elapsed_s) == ("gcp", "complete", "create", 3.0)
    log = next(e for e in evs if isinstance(e, HostLog))
    assert log.host == "gcp" and log.source == "terraform" and "msg" in log.line


def test_errored_apply_and_diagnostics_are_errors_on_their_host() -> None:
    evs = event_from_json(_hook("apply_errored", "module.aws.aws_instance.node"))
    assert any(isinstance(e, HostLog) and e.level == "error" and e.host == "aws" for e in evs)
    diag = {
        "type": "diagnostic",
        "@level": "error",
        "@message": "Error: quota",
        "diagnostic": {
            "severity": "error",
            "summary": "quota exceeded",
            "detail": "try later",
            "address": "module.azure.azurerm_public_ip.ip",
        },
    }
    (ev,) = event_from_json(diag)
    assert ev.host == "azure" and ev.level == "error" and ev.line == "quota exceeded: try later"


def test_other_messages_become_global_lines() -> None:
    (ev,) = event_from_json({"type": "change_summary", "@message": "Apply complete!", "@level": "info"})
    assert ev.host is None and ev.line == "Apply complete!"
