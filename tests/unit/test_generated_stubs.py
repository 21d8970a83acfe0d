"""The committed stubs and Envoy's descriptor set are exactly what the proto generates: nobody
edited them by hand, and nobody changed the proto without running `make proto`."""

import runpy
from pathlib import Path

from devkit import ROOT

COMMITTED_DESCRIPTOR = ROOT / "envoy" / "find_service.binpb"


def _files(root: Path) -> dict[Path, bytes]:
    return {
        p.relative_to(root): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_committed_stubs_and_descriptor_set_match_the_proto(tmp_path: Path) -> None:
    generate = runpy.run_path(str(ROOT / "protos" / "generate.py"))["generate"]
    descriptor = tmp_path / "descriptor" / "find_service.binpb"
    generate(tmp_path / "gen", descriptor)
    fresh, committed = _files(tmp_path / "gen"), _files(ROOT / "gen")
    assert fresh.keys() == committed.keys()
    stale = [str(path) for path in fresh if fresh[path] != committed[path]]
    if descriptor.read_bytes() != COMMITTED_DESCRIPTOR.read_bytes():
        stale.append(str(COMMITTED_DESCRIPTOR.relative_to(ROOT)))
    assert stale == [], "run `make proto` and commit the result"
