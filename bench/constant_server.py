"""COMPARISON BASELINE ONLY: the transport ceiling, a sync gRPC server answering a constant record.

No DB, no validation: what a Python sync gRPC server can do at best on this machine.
Usage: python -m bench.constant_server PORT
"""

from __future__ import annotations

import signal
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

RECORD = find_service_pb2.UserRecord(
    name="KrishnaMohan", phone=9731423166, since=Timestamp(seconds=1521019800)
)


class ConstantServicer(find_service_pb2_grpc.FindServiceServicer):
    def FindUser(self, request, context):  # type: ignore[no-untyped-def]
        return RECORD


def main() -> None:
    server = grpc.server(ThreadPoolExecutor(max_workers=16))
    find_service_pb2_grpc.add_FindServiceServicer_to_server(ConstantServicer(), server)
    server.add_insecure_port(f"127.0.0.1:{sys.argv[1]}")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
