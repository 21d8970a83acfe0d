"""Where a findsvc process starts, as `findsvc` (the console script) or `python -m findsvc`."""

import os
import sys

# gRPC core writes lines of its own on stderr, in plain text: a taken port's add_port.cc line
# before findsvc's, and a line for every failed TLS handshake, which any client can cause.
# They would break "one JSON object a line" and let a client grow the log, so they are off
# unless the operator sets GRPC_VERBOSITY (to debug gRPC itself). grpcio reads it at import.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

from findsvc.entrypoints.cli import main  # after GRPC_VERBOSITY is set: see above

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
