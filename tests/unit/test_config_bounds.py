import pytest

from findsvc.config import OPTIONS, ConfigError, Option, load

NUMERIC = [o for o in OPTIONS if type(o.default) in (int, float)]


@pytest.mark.parametrize("option", NUMERIC, ids=lambda option: option.env_var)
def test_every_numeric_setting_refuses_a_value_past_its_ceiling(option: Option) -> None:
    with pytest.raises(ConfigError, match=f"^{option.env_var}: expected "):
        load({option.env_var: "4294967296"})


def test_a_count_names_its_ceiling() -> None:
    with pytest.raises(ConfigError, match=r"expected a whole number from 1 to 10000$"):
        load({"FINDSVC_MAX_CONCURRENCY": "3000000000"})


def test_auto_processes_stay_under_the_ceiling() -> None:
    assert 1 <= load({"FINDSVC_PROCESSES": "auto"}).processes <= 256
