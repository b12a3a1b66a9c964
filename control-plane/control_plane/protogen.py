"""Generate the gRPC stubs from control-plane/proto/mcloud.proto (`make proto`).

The generated files are committed so the package imports without grpcio-tools; `generate()` into a
temporary directory is also what the staleness test compares against.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # control-plane/
PROTO_DIR = PACKAGE_ROOT / "proto"
OUTPUTS = ("mcloud_pb2.py", "mcloud_pb2.pyi", "mcloud_pb2_grpc.py")


def generate(out_root: Path) -> list[Path]:
    """Write the stubs under out_root/control_plane/proto/ and return their paths."""
    from grpc_tools import protoc  # dev dependency: only needed to regenerate

    (out_root / "control_plane" / "proto").mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-Icontrol_plane/proto={PROTO_DIR}",
        f"--python_out={out_root}",
        f"--grpc_python_out={out_root}",
        f"--pyi_out={out_root}",
        "control_plane/proto/mcloud.proto",
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed on control-plane/proto/mcloud.proto")
    return [out_root / "control_plane" / "proto" / name for name in OUTPUTS]


def main() -> None:
    for path in generate(PACKAGE_ROOT):
        print(f"wrote {path.relative_to(PACKAGE_ROOT.parent)}")


if __name__ == "__main__":
    sys.exit(main())
