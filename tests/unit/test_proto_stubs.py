"""The committed gRPC stubs must match control-plane/proto/mcloud.proto (run `make proto` when this fails)."""

from __future__ import annotations

from pathlib import Path

from control_plane import protogen


def test_committed_stubs_are_generated_from_the_current_proto(tmp_path: Path) -> None:
    fresh = protogen.generate(tmp_path)
    committed_dir = protogen.PACKAGE_ROOT / "control_plane" / "proto"
    stale = [p.name for p in fresh if p.read_bytes() != (committed_dir / p.name).read_bytes()]
    assert not stale, f"stale gRPC stubs {stale}: run `make proto` and commit the result"
