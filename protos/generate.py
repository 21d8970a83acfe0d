"""Generates the Python stubs of every .proto here into gen/, and the descriptor set Envoy's
gRPC-JSON transcoder reads into envoy/ (or given folders).

Run through `make proto`; a test runs it into a temp folder and compares.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent
REPO = PROTO_ROOT.parent
GOOGLEAPIS = REPO / "third_party" / "googleapis"
DEFAULT_OUT = REPO / "gen"
DEFAULT_DESCRIPTOR = REPO / "envoy" / "find_service.binpb"
# The transcoder turns grpc-status-details-bin into JSON only for types it knows: the
# google.rpc.Status and the error details findsvc sends (BadRequest) go in beside the service.
DESCRIPTOR_PROTOS = (
    "glarimy/ums/find/v1/find_service.proto",
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
)


def _plugin(name: str) -> str:
    """mypy-protobuf's plugins, from the same environment as this Python."""
    return str(Path(sys.executable).parent / name)


def _protoc(*args: str) -> None:
    well_known = str(files("grpc_tools") / "_proto")
    command = ["protoc", f"-I{PROTO_ROOT}", f"-I{GOOGLEAPIS}", f"-I{well_known}", *args]
    if protoc.main(command) != 0:
        raise SystemExit(f"protoc failed on {args[-1]}")


def generate(out_dir: Path, descriptor: Path = DEFAULT_DESCRIPTOR) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for proto in sorted(PROTO_ROOT.rglob("*.proto")):
        _protoc(
            f"--python_out={out_dir}",
            f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
            f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
            f"--mypy_out={out_dir}",
            f"--mypy_grpc_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            str(proto.relative_to(PROTO_ROOT)),
        )
    descriptor.parent.mkdir(parents=True, exist_ok=True)
    _protoc("--include_imports", f"--descriptor_set_out={descriptor}", *DESCRIPTOR_PROTOS)


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
