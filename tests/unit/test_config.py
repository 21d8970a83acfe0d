import os
import re
from dataclasses import fields
from pathlib import Path

import pytest

from findsvc.config import OPTIONS, ConfigError, Settings, env_name, load, parse_database_url
from findsvc.cpu_budget import usable_cpus
from tests.support.docs import pages


class TestDefaults:
    def test_no_environment_means_the_embedded_database_on_port_50051(self) -> None:
        settings = load({})
        assert settings.db_url is None
        assert settings.port == 50051
        assert settings.listen_address == "[::]:50051"

    def test_every_setting_has_one_option(self) -> None:
        assert [f.name for f in fields(Settings)] == [o.name for o in OPTIONS]

    def test_no_password_has_a_default(self) -> None:
        assert load({}).db_password is None


class TestSources:
    def test_settings_come_from_the_environment(self) -> None:
        settings = load({"FINDSVC_PORT": "6000", "FINDSVC_LOG_LEVEL": "debug"})
        assert (settings.port, settings.log_level) == (6000, "DEBUG")

    def test_a_flag_wins_over_the_environment(self) -> None:
        assert load({"FINDSVC_PORT": "6000"}, {"port": "7000"}).port == 7000

    def test_the_password_file_wins_over_the_url(self, tmp_path: Path) -> None:
        secret = tmp_path / "password"
        secret.write_text("from-file\n")
        settings = load(
            {
                "FINDSVC_DB_URL": "mysql://findsvc:from-url@db/glarimy",
                "FINDSVC_DB_PASSWORD_FILE": str(secret),
            }
        )
        assert settings.db_password == "from-file"

    def test_processes_auto_means_one_per_core(self) -> None:
        assert load({"FINDSVC_PROCESSES": "auto"}).processes == usable_cpus()


def cgroup_tree(tmp_path: Path, self_cgroup: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup mount under tmp_path/root with `files`, and the /proc/self/cgroup to match."""
    root = tmp_path / "root"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    proc = tmp_path / "cgroup"
    proc.write_text(self_cgroup)
    return root, proc


class TestProcessesAuto:
    """`auto` means the CPUs this process may use: its affinity mask, capped by the cgroup quota."""

    @pytest.fixture
    def cpus(self) -> int:
        return len(os.sched_getaffinity(0))

    def test_a_cgroup_v2_quota_of_one_and_a_half_cpus_means_two(
        self, tmp_path: Path, cpus: int
    ) -> None:
        root, proc = cgroup_tree(tmp_path, "0::/\n", {"cpu.max": "150000 100000\n"})
        assert usable_cpus(root, proc) == min(cpus, 2)

    def test_a_quota_of_half_a_cpu_means_one(self, tmp_path: Path) -> None:
        root, proc = cgroup_tree(tmp_path, "0::/\n", {"cpu.max": "50000 100000\n"})
        assert usable_cpus(root, proc) == 1

    def test_the_quota_of_a_parent_cgroup_counts_too(self, tmp_path: Path) -> None:
        files = {"pod/cpu.max": "100000 100000", "pod/app/cpu.max": "max 100000"}
        root, proc = cgroup_tree(tmp_path, "0::/pod/app\n", files)
        assert usable_cpus(root, proc) == 1

    def test_no_quota_means_the_affinity_mask(self, tmp_path: Path, cpus: int) -> None:
        root, proc = cgroup_tree(tmp_path, "0::/\n", {"cpu.max": "max 100000\n"})
        assert usable_cpus(root, proc) == cpus

    def test_a_cgroup_v1_cfs_quota(self, tmp_path: Path) -> None:
        files = {
            "cpu,cpuacct/cpu.cfs_quota_us": "100000",
            "cpu,cpuacct/cpu.cfs_period_us": "100000",
        }
        root, proc = cgroup_tree(tmp_path, "4:cpu,cpuacct:/\n1:memory:/x\n", files)
        assert usable_cpus(root, proc) == 1

    def test_a_cgroup_v1_quota_of_minus_one_is_no_limit(self, tmp_path: Path, cpus: int) -> None:
        files = {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}
        root, proc = cgroup_tree(tmp_path, "3:cpu:/\n", files)
        assert usable_cpus(root, proc) == cpus

    def test_no_cgroup_files_means_the_affinity_mask(self, tmp_path: Path, cpus: int) -> None:
        assert usable_cpus(tmp_path / "none", tmp_path / "none" / "cgroup") == cpus

    def test_the_affinity_mask_caps_a_larger_quota(self, tmp_path: Path, cpus: int) -> None:
        root, proc = cgroup_tree(tmp_path, "0::/\n", {"cpu.max": "6400000 100000\n"})
        assert usable_cpus(root, proc) == cpus


class TestDatabaseUrl:
    def test_a_full_mysql_url(self) -> None:
        url = parse_database_url("mysql://ums:s%40cret@db.example:3307/glarimy")
        assert (url.user, url.password, url.host, url.port, url.database) == (
            "ums",
            "s@cret",
            "db.example",
            3307,
            "glarimy",
        )

    def test_the_redacted_form_hides_the_password(self) -> None:
        url = parse_database_url("mysql://ums:secret@db/glarimy")
        assert "secret" not in url.redacted
        assert "secret" not in repr(url)

    def test_a_sqlite_url(self) -> None:
        assert parse_database_url("sqlite:///var/users.db").path == "/var/users.db"


class TestBadConfig:
    @pytest.mark.parametrize(
        ("environ", "names"),
        [
            ({"FINDSVC_PORT": "http"}, "FINDSVC_PORT"),
            ({"FINDSVC_PORT": "70000"}, "FINDSVC_PORT"),
            ({"FINDSVC_DB_URL": "postgres://u@h/db"}, "FINDSVC_DB_URL"),
            ({"FINDSVC_DB_URL": "mysql://db/glarimy"}, "FINDSVC_DB_URL"),
            ({"FINDSVC_DB_URL": "mysql://u@db:port/glarimy"}, "FINDSVC_DB_URL"),
            ({"FINDSVC_DB_PASSWORD_FILE": "/nonexistent/password"}, "FINDSVC_DB_PASSWORD_FILE"),
            ({"FINDSVC_LOG_LEVEL": "chatty"}, "FINDSVC_LOG_LEVEL"),
            ({"FINDSVC_REFLECTION": "maybe"}, "FINDSVC_REFLECTION"),
            ({"FINDSVC_GRACE_S": "-1"}, "FINDSVC_GRACE_S"),
            ({"FINDSVC_TLS_CLIENT_CA": __file__}, "FINDSVC_TLS_CLIENT_CA"),
            ({"FINDSVC_HEALTH_INTERVAL_S": "0"}, "FINDSVC_HEALTH_INTERVAL_S"),
            ({"FINDSVC_HEALTH_INTERVAL_S": "0.05"}, "FINDSVC_HEALTH_INTERVAL_S"),
            # gRPC counts milliseconds in a signed 32-bit int: 2^31 ms is one too many.
            ({"FINDSVC_KEEPALIVE_TIME_S": "2147484"}, "FINDSVC_KEEPALIVE_TIME_S"),
            ({"FINDSVC_MAX_CONNECTION_AGE_S": "3000000"}, "FINDSVC_MAX_CONNECTION_AGE_S"),
            ({"FINDSVC_GRACE_S": "inf"}, "FINDSVC_GRACE_S"),
            ({"FINDSVC_DRAIN_S": "nan"}, "FINDSVC_DRAIN_S"),
        ],
    )
    def test_a_bad_setting_is_named_in_one_line(self, environ: dict[str, str], names: str) -> None:
        with pytest.raises(ConfigError) as raised:
            load(environ)
        assert names in str(raised.value)
        assert "\n" not in str(raised.value)

    def test_an_out_of_range_duration_says_the_range(self) -> None:
        with pytest.raises(ConfigError, match="from 0 to 2147483"):
            load({"FINDSVC_MAX_CONNECTION_AGE_GRACE_S": "9999999"})

    def test_a_health_interval_says_its_floor(self) -> None:
        with pytest.raises(ConfigError, match=r"at least 0\.1"):
            load({"FINDSVC_HEALTH_INTERVAL_S": "0"})

    def test_the_largest_durations_grpc_takes_are_accepted(self) -> None:
        settings = load({"FINDSVC_KEEPALIVE_TIME_S": "2147483", "FINDSVC_HEALTH_INTERVAL_S": "0.1"})
        assert (settings.keepalive_time_s, settings.health_interval_s) == (2147483, 0.1)

    def test_a_bad_flag_is_named_as_a_flag(self) -> None:
        with pytest.raises(ConfigError, match="--port"):
            load({}, {"port": "x"})

    def test_the_password_never_appears_in_an_error(self) -> None:
        with pytest.raises(ConfigError) as raised:
            load({"FINDSVC_DB_URL": "mysql://u:hunter2@db:99999/glarimy"})
        assert "hunter2" not in str(raised.value)


class TestDocs:
    def test_every_setting_is_in_the_docs(self) -> None:
        documented = set(re.findall(r"\bFINDSVC_[A-Z_]+\b", "".join(pages().values())))
        missing = [env_name(o.name) for o in OPTIONS if env_name(o.name) not in documented]
        assert missing == []
