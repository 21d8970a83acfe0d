"""The GTID position the binlog follower has applied: MariaDB's per-domain merge, pure logic
(MySQL's GTID sets are mysql-replication's, and no MySQL server is here to test them on)."""

from __future__ import annotations

from findsvc.adapters.mysql.gtid_positions import AppliedGtids, mariadb_covers
from findsvc.domain.read_after import ReadAfter


def following(state: str) -> AppliedGtids:
    gtids = AppliedGtids()
    gtids.started("mariadb", state)
    return gtids


class TestMariadb:
    def test_the_state_read_at_the_start_is_the_position(self) -> None:
        assert following("0-1-42").position() == ReadAfter("0-1-42", "mariadb")

    def test_each_gtid_read_moves_its_domain(self) -> None:
        gtids = following("0-1-42,1-2-7")
        gtids.applied("0-1-43")
        gtids.applied("1-3-8")
        assert gtids.position() == ReadAfter("0-1-43,1-3-8", "mariadb")

    def test_a_new_domain_joins_the_position_in_domain_order(self) -> None:
        gtids = following("5-1-3")
        gtids.applied("2-1-9")
        assert gtids.position() == ReadAfter("2-1-9,5-1-3", "mariadb")

    def test_a_domain_never_goes_back(self) -> None:
        # The state may be read just after a commit the stream then shows again.
        gtids = following("0-1-44")
        gtids.applied("0-1-43")
        assert gtids.position() == ReadAfter("0-1-44", "mariadb")

    def test_nothing_written_yet_needs_no_position(self) -> None:
        gtids = following("")
        assert gtids.position() is None
        gtids.applied("0-1-1")
        assert gtids.position() == ReadAfter("0-1-1", "mariadb")

    def test_not_following_needs_no_position(self) -> None:
        gtids = following("0-1-42")
        gtids.lost()
        gtids.applied("0-1-43")  # a late event of the session that ended
        assert gtids.position() is None
        assert AppliedGtids().position() is None


class TestMysql:
    def test_gtids_read_merge_into_the_set(self) -> None:
        uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
        gtids = AppliedGtids()
        gtids.started("mysql", f"{uuid}:1-5")
        gtids.applied(f"{uuid}:6")
        gtids.applied(f"{uuid}:5")  # already in the state
        assert gtids.position() == ReadAfter(f"{uuid}:1-6", "mysql")


class TestCovers:
    def test_a_position_covers_what_each_of_its_domains_reached(self) -> None:
        assert mariadb_covers("0-1-42,1-2-7", "0-1-40")
        assert mariadb_covers("0-1-42,1-2-7", "0-1-42,1-2-7")
        assert not mariadb_covers("0-1-42,1-2-7", "0-1-43")
        assert not mariadb_covers("0-1-42", "0-1-1,1-2-1")  # a domain it has not seen
        assert mariadb_covers("0-1-42", "0-2-41")  # compared by sequence, within a domain
