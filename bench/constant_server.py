"""COMPARISON BASELINE ONLY: the transport ceiling, a sync gRPC server answering a constant record.

No DB, no validation: what a Python sync gRPC server can do at best on this machine.
WORKERS defaults to findsvc's own default, so that the ceiling has findsvc's shape; "pinned"
keeps it to one CPU as FINDSVC_CPU_PINNING=1 does findsvc.
Usage: python -m bench.constant_server PORT [WORKERS [pinned]]
"""

from __future__ import annotations

import signal
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from findsvc.config import Settings
from findsvc.process.cpu_pinning import pin_to_one_cpu
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

RECORD = find_service_pb2.UserRecord(
    name="KrishnaMohan", phone=9731423166, since=Timestamp(seconds=1521019800)
)


class ConstantServicer(find_service_pb2_grpc.FindServiceServicer):
    def FindUser(self, request, context):  # type: ignore[no-untyped-def]
        return RECORD


def main() -> None:
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else Settings().workers
    if sys.argv[3:] == ["pinned"]:
        pin_to_one_cpu(0)
    server = grpc.server(ThreadPoolExecutor(max_workers=workers))
    find_service_pb2_grpc.add_FindServiceServicer_to_server(ConstantServicer(), server)
    server.add_insecure_port(f"127.0.0.1:{sys.argv[1]}")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
