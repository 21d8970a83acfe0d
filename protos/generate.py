"""Generates the Python stubs of every .proto here into gen/ (or a given folder).

Run through `make proto`; a test runs it into a temp folder and compares.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent
DEFAULT_OUT = PROTO_ROOT.parent / "gen"


def _plugin(name: str) -> str:
    """mypy-protobuf's plugins, from the same environment as this Python."""
    return str(Path(sys.executable).parent / name)


def generate(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = str(files("grpc_tools") / "_proto")
    for proto in sorted(PROTO_ROOT.rglob("*.proto")):
        status = protoc.main(
            [
                "protoc",
                f"-I{PROTO_ROOT}",
                f"-I{well_known}",
                f"--python_out={out_dir}",
                f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
                f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
                f"--mypy_out={out_dir}",
                f"--mypy_grpc_out={out_dir}",
                f"--grpc_python_out={out_dir}",
                str(proto.relative_to(PROTO_ROOT)),
            ]
        )
        if status != 0:
            raise SystemExit(f"protoc failed on {proto.name}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
