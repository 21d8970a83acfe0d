"""findsvc started exactly as the prod Deployment starts it, and probed as the kubelet probes it.

The container's command, args and environment come from the rendered manifest. Only what a
laptop must change is changed: the listening ports (free ones, on loopback), the database
URL (the test MariaDB, as a SELECT-only user), the password and tokens files (temp files
standing in for the mounted Secrets) and the DB's CA (the test MariaDB's, standing in for
the ConfigMap).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devkit.mariadb import free_port
from findsvc.config import DatabaseUrl
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.k8s.manifests import Obj, container_env, findsvc_container, overlay, port_number, the
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE, SERVING
from tests.support.db import admin_connection, create_database, insert_user
from tests.support.jwts import Issuer


@dataclass
class Pod:
    process: subprocess.Popen[bytes]
    container: Obj
    pod_spec: Obj
    env: dict[str, str]
    ports: dict[int, int]  # container port -> where it listens here
    workdir: Path
    log: Path
    token: str  # one from the tokens file

    def probe(self, name: str) -> bool:
        """One kubelet gRPC probe: success only for SERVING within the probe's timeout."""
        probe = self.container[name]
        port = self.ports[probe["grpc"]["port"]]
        request = health_pb2.HealthCheckRequest(service=probe["grpc"].get("service", ""))
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    request, timeout=probe.get("timeoutSeconds", 1)
                )
            except grpc.RpcError:
                return False
        return reply.status == SERVING

    def find(self, name: str) -> find_service_pb2.UserRecord:
        target = f"127.0.0.1:{self.ports[port_number(self.container, 'grpc')]}"
        with grpc.insecure_channel(target) as channel:
            return find_service_pb2_grpc.FindServiceStub(channel).FindUser(
                find_service_pb2.FindUserRequest(name=name),
                timeout=5,
                metadata=[("authorization", f"Bearer {self.token}")],
            )


@pytest.fixture(scope="module")
def select_only_db(mysql_server_url: DatabaseUrl) -> Iterator[tuple[DatabaseUrl, str]]:
    """A users table, and a user that may only read it, as findsvc's DBA would grant."""
    admin = replace(mysql_server_url, database=f"findsvc_k8s_{uuid.uuid4().hex[:12]}")
    create_database(admin)
    insert_user(admin, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
    user, password = f"findsvc_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(18)
    with admin_connection(admin) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
        cursor.execute(f"GRANT SELECT ON `{admin.database}`.* TO %s@'%%'", (user,))
    yield replace(admin, user=user, password=None), password
    with admin_connection(admin) as conn, conn.cursor() as cursor:
        cursor.execute("DROP USER %s@'%%'", (user,))
        cursor.execute(f"DROP DATABASE `{admin.database}`")


@pytest.fixture(scope="module")
def pod(
    select_only_db: tuple[DatabaseUrl, str],
    mysql_server_ca: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pod]:
    objects = overlay("prod")
    container = findsvc_container(objects)
    pod_spec = the(objects, "Deployment", "findsvc")["spec"]["template"]["spec"]
    env = container_env(objects, container)
    db, password = select_only_db
    workdir = tmp_path_factory.mktemp("pod-tmp")
    secret_file = tmp_path_factory.mktemp("secret") / "password"
    secret_file.write_text(password + "\n")  # as `kubectl create secret --from-file` keeps it
    token = secrets.token_urlsafe(24)
    tokens_file = tmp_path_factory.mktemp("tokens") / "tokens"
    tokens_file.write_text(token + "\n")
    # The ConfigMap findsvc-jwks, as `kubectl get --raw /openid/v1/jwks` saves a cluster's keys.
    jwks_file = Issuer().write_jwks(tmp_path_factory.mktemp("jwks") / "jwks.json")
    ports = {
        port_number(container, "grpc"): free_port(),
        port_number(container, "metrics"): free_port(),
        port_number(container, "health"): free_port(),
    }
    env |= {
        "FINDSVC_HOST": "127.0.0.1",
        "FINDSVC_PORT": str(ports[int(env["FINDSVC_PORT"])]),
        "FINDSVC_METRICS_PORT": str(ports[int(env["FINDSVC_METRICS_PORT"])]),
        "FINDSVC_HEALTH_PORT": str(ports[int(env["FINDSVC_HEALTH_PORT"])]),
        "FINDSVC_DB_URL": f"mysql://{db.user}@{db.host}:{db.port}/{db.database}",
        "FINDSVC_DB_PASSWORD_FILE": str(secret_file),
        "FINDSVC_AUTH_TOKENS_FILE": str(tokens_file),
        "FINDSVC_AUTH_JWKS_FILE": str(jwks_file),
        "FINDSVC_DB_TLS_CA": str(mysql_server_ca),
    }
    bin_dir = str(Path(sys.executable).parent)
    command = shutil.which(container["command"][0], path=bin_dir)
    assert command, f"{container['command'][0]} is not installed beside {sys.executable}"
    log = tmp_path_factory.mktemp("pod-log") / "findsvc.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [command, *container["command"][1:], *container["args"]],
            env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(workdir), **env},
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    started = Pod(process, container, pod_spec, env, ports, workdir, log, token)
    yield started
    if process.poll() is None:
        process.kill()
        process.wait()


def wait_for(check: Callable[[], bool], budget_s: float) -> bool:
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


class TestAsTheKubeletSeesIt:
    def test_the_startup_probe_passes_within_its_budget(self, pod: Pod) -> None:
        startup = pod.container["startupProbe"]
        budget = startup["periodSeconds"] * startup["failureThreshold"]
        assert wait_for(lambda: pod.probe("startupProbe"), budget), pod.log.read_text()

    def test_then_it_is_ready_and_live(self, pod: Pod) -> None:
        assert wait_for(lambda: pod.probe("readinessProbe"), 10), pod.log.read_text()
        assert pod.probe("livenessProbe")

    def test_it_finds_users_with_the_password_from_the_secret_file(self, pod: Pod) -> None:
        assert pod.find(KRISHNA).phone == KRISHNA_PHONE

    def test_prometheus_finds_metrics_where_the_annotations_say(self, pod: Pod) -> None:
        template = the(overlay("prod"), "Deployment", "findsvc")
        annotations = template["spec"]["template"]["metadata"]["annotations"]
        port = pod.ports[int(annotations["prometheus.io/port"])]
        url = f"http://127.0.0.1:{port}{annotations['prometheus.io/path']}"
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode()
        assert "\nfindsvc_db_up 1.0\n" in body

    def test_it_writes_nothing_outside_tmp(self, pod: Pod) -> None:
        # Its working directory stands for the image's /tmp; nothing else is writable there.
        assert list(pod.workdir.iterdir()) == []

    def test_sigterm_unreadies_at_once_drains_and_exits_0_within_the_grace_period(
        self, pod: Pod
    ) -> None:
        signalled = time.monotonic()
        pod.process.send_signal(signal.SIGTERM)
        assert wait_for(lambda: not pod.probe("readinessProbe"), 1.0)
        # Still live and still serving while the endpoints update.
        assert pod.probe("livenessProbe")
        assert pod.find("KrishnaMohan").name == "KrishnaMohan"
        grace = pod.pod_spec["terminationGracePeriodSeconds"]
        assert pod.process.wait(timeout=grace - (time.monotonic() - signalled)) == 0
