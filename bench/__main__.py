"""`make bench`: closed-loop load on findsvc, the naive reference and the transport ceiling.

Knobs (environment): BENCH_SECONDS per point (default 2), BENCH_ROUNDS (3; the median
round is reported), BENCH_WARMUP_S (1),
BENCH_CONCURRENCY (1,8,32,64), BENCH_SCENARIOS (all; a comma list of the keys in
bench/scenarios.py, and `rest`), BENCH_USERS (100000), BENCH_LOAD_PROCESSES (1: a second one
takes CPU from the servers on 2 cores), BENCH_WRITES_PER_S (10: phone changes of hot-set
users during the whole run, in the MariaDB that writes the binlog findsvc as shipped follows).
FINDSVC_* variables set by the caller are
passed to the findsvc servers, for tuning runs (e.g. FINDSVC_WORKERS=4); BENCH_VARIANTS adds
findsvc servers with settings of their own to the same interleaved run, e.g.
BENCH_VARIANTS="w4:FINDSVC_WORKERS=4;pool1:FINDSVC_DB_POOL_SIZE=1,FINDSVC_WORKERS=8".
Writes bench/results.json and bench/results.png; `python -m bench.report` redraws them.
"""

import sys

from bench.run import main

if __name__ == "__main__":
    sys.exit(main())
