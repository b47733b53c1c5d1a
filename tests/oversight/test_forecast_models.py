"""The forecasting models and their backtest, on synthetic series (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from truyxuat.oversight import forecasting


def seasonal_series(weeks: int = 156, seed: int = 7, season: int = 52) -> list[float]:
    """Three years of weekly demand: level, trend, a season (yearly by default) and seeded
    noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    values = 100 + 0.3 * t + 30 * np.sin(2 * np.pi * t / season) + rng.normal(0, 5, weeks)
    return [float(v) for v in values]


def test_backtest_on_seasonal_series_reports_mape_and_beats_naive() -> None:
    result = forecasting.backtest(seasonal_series(), horizon=4, origins=8)

    assert result is not None
    assert result.model.mape is not None and result.naive.mape is not None
    assert result.model.mape < result.naive.mape
    assert result.beats_naive
    assert result.model.points == result.naive.points == 32
    assert result.model.smape is not None and result.model.mae > 0


def test_quarterly_season_is_found_and_beats_naive_by_far() -> None:
    values = seasonal_series(season=13)

    result = forecasting.backtest(values)

    assert result is not None and result.spec.season == 13
    assert result.model.mape is not None and result.naive.mape is not None
    assert result.model.mape < result.naive.mape / 2


def test_backtest_is_deterministic() -> None:
    values = seasonal_series(seed=11)

    first = forecasting.backtest(values)
    second = forecasting.backtest(values)

    assert first == second


def test_forecast_picks_a_seasonal_model_and_its_intervals_widen() -> None:
    result = forecasting.forecast(seasonal_series(season=13), 12)

    assert result.spec.kind is forecasting.ModelKind.seasonal
    assert result.horizon == 12 and result.fallback is None
    for step in range(12):
        assert result.lower[95][step] <= result.lower[80][step] <= result.mean[step]
        assert result.mean[step] <= result.upper[80][step] <= result.upper[95][step]
    widths = [u - lo for u, lo in zip(result.upper[95], result.lower[95], strict=True)]
    assert widths[-1] > widths[0]


def test_short_history_gets_a_flagged_naive_forecast() -> None:
    result = forecasting.forecast([4.0, 6.0, 5.0], 12)

    assert result.spec.naive and result.fallback == "short"
    assert result.mean == [5.0] * 12
    assert result.upper[95][11] > result.upper[95][0] > 5.0
    assert forecasting.backtest([4.0, 6.0, 5.0]) is None


@pytest.mark.parametrize(
    "values",
    [[], [0.0] * 40, [7.0] * 40, [0.0] * 35 + [3.0, 0.0, 0.0, 1.0, 0.0], [1e9, 0.0] * 30],
    ids=["empty", "zeros", "flat", "intermittent", "wild"],
)
def test_flat_zero_and_odd_series_never_crash(values: list[float]) -> None:
    result = forecasting.forecast(values, 12)
    forecasting.backtest(values)

    assert len(result.mean) == 12
    assert all(v >= 0 for v in result.mean + result.lower[95] + result.lower[80])


def test_forecasts_never_go_below_zero() -> None:
    falling = [float(v) for v in range(60, 0, -3)]

    result = forecasting.forecast(falling, 24)

    assert min(result.mean) >= 0 and min(result.lower[95]) >= 0


def test_mape_skips_zero_actuals() -> None:
    found = forecasting.errors([0.0, 10.0, 20.0], [5.0, 12.0, 15.0])

    assert found.mape_points == 2
    assert found.mape == pytest.approx((20 + 25) / 2)
    assert found.mae == pytest.approx((5 + 2 + 5) / 3)
    assert forecasting.errors([0.0, 0.0], [1.0, 1.0]).mape is None


def test_weekly_series_uses_vietnam_weeks_and_fills_gaps() -> None:
    points = [
        # Sunday 23:30 UTC is Monday 06:30 in Viet Nam: the next week.
        (datetime(2026, 11, 1, 23, 30, tzinfo=UTC), 2.0),
        (datetime(2026, 10, 27, 3, 0, tzinfo=UTC), 1.0),
        (datetime(2026, 11, 17, 3, 0, tzinfo=UTC), 4.0),
    ]

    weeks, values = forecasting.weekly_series(points)

    assert weeks == [date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    assert values == [1.0, 2.0, 0.0, 4.0]


def test_quick_forecast_follows_a_trend_and_stays_non_negative() -> None:
    rising = [float(v) for v in range(10, 40)]

    ahead = forecasting.quick_forecast(rising, 4)

    assert 35 < ahead[0] < ahead[-1] < 45
    assert forecasting.quick_forecast([50.0, 30.0, 10.0, 0.0, 0.0], 8)[-1] == 0.0
    assert forecasting.quick_forecast([], 3) == [0.0, 0.0, 0.0]
