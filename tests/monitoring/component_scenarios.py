"""Synthetic series for the alert unit tests of findsvc's parts: the database, its pool, shed
calls, restarts, replicas, the binlog cache and scraping, and what each should fire when."""

from __future__ import annotations

from monitoring.slo import SERVICE
from tests.monitoring.promtool import Expect, gauge, series
from tests.monitoring.traffic import CALLS_PER_MINUTE, NAMESPACE, Phase, Scenario, pod, traffic


def _gauges(metric: str, *per_pod: str) -> list[dict[str, str]]:
    return [series(metric, values, **pod(index)) for index, values in enumerate(per_pod)]


def component_scenarios() -> list[Scenario]:
    shed_labels = {**pod(0), "grpc_service": SERVICE}
    restart_labels = {"namespace": NAMESPACE, "container": "findsvc", "job": "kube-state-metrics"}
    restarts = "kube_pod_container_status_restarts_total"
    return [
        Scenario(
            "the database unreachable for 5 minutes, beside a pod whose checks flap",
            _gauges(
                "findsvc_db_up",
                gauge((10, 1), (20, 0)),
                gauge((10, 1), (3, 0), (1, 1), (3, 0), (1, 1), (3, 0), (10, 1)),
            ),
            [
                Expect(14, "FindsvcDatabaseDown"),
                Expect(16, "FindsvcDatabaseDown", [pod(0)]),
                Expect(25, "FindsvcDatabaseDown", [pod(0)]),
            ],
        ),
        Scenario(
            "a pool busy at every scrape for 10 minutes, beside an idle one and a nearly full one",
            _gauges(
                "findsvc_db_pool_connections_in_use", gauge((40, 8)), gauge((40, 0)), gauge((40, 8))
            )
            + _gauges(
                "findsvc_db_pool_connections_idle",
                gauge((10, 2), (30, 0)),
                gauge((40, 0)),
                " ".join([gauge((4, 0), (1, 1))] * 8),
            ),
            [
                Expect(19, "FindsvcDbPoolSaturated"),
                Expect(22, "FindsvcDbPoolSaturated", [pod(0)]),
                Expect(39, "FindsvcDbPoolSaturated", [pod(0)]),
            ],
        ),
        Scenario(
            "calls shed for 10 minutes",
            traffic(
                Phase(10, {"OK": CALLS_PER_MINUTE}),
                Phase(30, {"OK": CALLS_PER_MINUTE - 2, "RESOURCE_EXHAUSTED": 2}),
            ),
            [
                Expect(19, "FindsvcLoadShedding"),
                Expect(23, "FindsvcLoadShedding", [shed_labels]),
                Expect(23, "FindsvcAvailabilityFastBurn"),
            ],
        ),
        Scenario(
            "three restarts in half an hour, beside a pod that restarted twice in an hour",
            [
                series(
                    restarts,
                    gauge((10, 0), (10, 1), (10, 2), (50, 3)),
                    **restart_labels,
                    pod="findsvc-0",
                ),
                series(
                    restarts, gauge((10, 0), (50, 1), (20, 2)), **restart_labels, pod="findsvc-1"
                ),
            ],
            [
                Expect(25, "FindsvcPodRestarting"),
                Expect(31, "FindsvcPodRestarting", [{**restart_labels, "pod": "findsvc-0"}]),
                Expect(65, "FindsvcPodRestarting", [{**restart_labels, "pod": "findsvc-0"}]),
                Expect(79, "FindsvcPodRestarting"),
            ],
        ),
        Scenario(
            "a replica out of service on every pod for 5 minutes, beside one out on a single pod",
            [
                series("findsvc_db_replica_healthy", values, **pod(index), replica=replica)
                for index in (0, 1)
                for replica, values in (
                    ("replica-a:3306", gauge((10, 1), (20, 0))),
                    ("replica-b:3306", gauge((10, 1), (20, 0 if index == 0 else 1))),
                )
            ],
            [
                Expect(14, "FindsvcReplicaOutOfService"),
                Expect(
                    16,
                    "FindsvcReplicaOutOfService",
                    [{"namespace": NAMESPACE, "replica": "replica-a:3306"}],
                ),
            ],
        ),
        Scenario(
            "a binlog follower reconnecting for 10 minutes, beside one back after 3",
            [
                series("findsvc_binlog_follower_state", values, **pod(index), state=state)
                for index, phases in enumerate(
                    (
                        ((10, 1), (20, 0)),  # following, then never again
                        ((10, 1), (3, 0), (17, 1)),  # back after 3 minutes
                    )
                )
                for state, values in (
                    ("following", gauge(*phases)),
                    ("reconnecting", gauge(*((minutes, 1 - up) for minutes, up in phases))),
                )
            ],
            [
                Expect(19, "FindsvcBinlogCacheNotFollowing"),
                Expect(21, "FindsvcBinlogCacheNotFollowing", [pod(0)]),
            ],
        ),
        Scenario(
            "a scrape failing for 5 minutes, beside one that failed for 2",
            _gauges("up", gauge((10, 1), (20, 0)), gauge((10, 1), (2, 0), (18, 1))),
            [
                Expect(14, "FindsvcScrapeFailing"),
                Expect(16, "FindsvcScrapeFailing", [pod(0)]),
            ],
        ),
    ]
