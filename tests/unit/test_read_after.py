"""The read-after header (x-read-after-gtid): which positions it accepts, and that a call
carrying one passes the cache by."""

from __future__ import annotations

import pytest

from findsvc.domain.model import Name
from findsvc.domain.read_after import InvalidReadAfter, ReadAfter, reading_after
from findsvc.policies.caching import CachingRepository
from tests.support.calls import KRISHNA
from tests.unit.fakes import FakeClock, FakeStore


class TestReadAfterHeader:
    @pytest.mark.parametrize(
        "raw",
        [
            "0-1-42",
            "0-1-42,1-2-7",
            "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5",
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18, "
            "2e11fa47-71ca-11e1-9e33-c80aa9429562:x:3",
        ],
    )
    def test_mariadb_positions_and_mysql_gtid_sets_are_accepted(self, raw: str) -> None:
        assert ReadAfter.parse(raw).position == raw.replace(" ", "")

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "0-1",
            "0-1-42,",
            "0-1-42; SELECT 1",
            "4294967296-1-1",
            "0-1-18446744073709551616",
            "3E11FA47-71CA-11E1-9E33-C80AA9429562:0-5",
            "3E11FA47-71CA-11E1-9E33-C80AA9429562:9-5",
            "3E11FA47-71CA-11E1-9E33-C80AA9429562",
            "1-1-1," * 400,
        ],
    )
    def test_anything_else_is_refused(self, raw: str) -> None:
        with pytest.raises(InvalidReadAfter):
            ReadAfter.parse(raw)


class TestReadAfterPassesTheCache:
    def test_a_call_with_a_position_asks_the_store_not_the_cache(self) -> None:
        store = FakeStore(KRISHNA)
        cached = CachingRepository(store, 60, 100, 60, FakeClock(), cap_s=5)
        cached.get(Name(KRISHNA))
        cached.get_many([Name(KRISHNA)])  # both cached now
        with reading_after(ReadAfter.parse("0-1-42")):
            cached.get(Name(KRISHNA))
            cached.get_many([Name(KRISHNA)])
        assert (store.singles, store.batches) == ([KRISHNA, KRISHNA], [[KRISHNA]])
