"""The polyglot proof: a Node client (@grpc/grpc-js, the .proto loaded at run time) gets the record.

`make test` installs clients/node/node_modules with `npm ci` from the committed lockfile.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from devkit import ROOT
from devkit.server import ServerProcess

NODE_CLIENT = ROOT / "clients" / "node"


def node_find(target: str, *names: str) -> tuple[int, Any]:
    node = shutil.which("node")
    assert node, "node is not installed: the polyglot check needs Node 18 or later"
    assert (NODE_CLIENT / "node_modules").is_dir(), "run `make test` (it runs npm ci first)"
    result = subprocess.run(
        [node, str(NODE_CLIENT / "find.js"), target, *names],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


class TestNodeClient:
    def test_node_finds_a_user_with_every_field(self, server: ServerProcess) -> None:
        code, record = node_find(server.target, "KrishnaMohan")
        assert code == 0
        assert record["name"] == "KrishnaMohan"
        assert record["phone"] == "9731423166"  # int64 as a string: exact in JavaScript
        assert record["since"] == {"seconds": "1521019800", "nanos": 0}

    def test_node_gets_not_found_as_a_status(self, server: ServerProcess) -> None:
        code, reply = node_find(server.target, "NobodyByThisName")
        assert code == 1
        assert reply["code"] == "NOT_FOUND"

    def test_node_batch_finds_in_order_with_names_not_found(self, server: ServerProcess) -> None:
        code, reply = node_find(server.target, "NobodyByThisName", "krishnamohan")
        assert code == 0
        assert [user["name"] for user in reply["users"]] == ["KrishnaMohan"]
        assert reply["notFoundNames"] == ["NobodyByThisName"]
