"""Forecast: a product's full forecast (model search by AICc among up to 9 exponential
smoothing models, 12 weeks with 80/95 % intervals, and the 8-origin backtest) on three years
of weekly demand, and the fixed-parameter forecast the supply-risk ranking makes per product.

Measured in the same run, as the ceiling: statsmodels fitting one ETS model and predicting
12 weeks with intervals, the least work any model forecast does.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from bench.common import report
from truyxuat.oversight import forecasting

SERIES = 20
WEEKS = 156


def _series(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(WEEKS)
    values = 100 + 0.3 * t + 30 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 5, WEEKS)
    return [float(v) for v in values]


def _per_second(fn: object, batch: list[list[float]]) -> float:
    assert callable(fn)
    start = time.perf_counter()
    for values in batch:
        fn(values)
    return len(batch) / (time.perf_counter() - start)


def _bare_fit(values: list[float]) -> None:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ETSModel(pd.Series(values), error="add", trend="add", damped_trend=True).fit(
            disp=False
        )
        result.get_prediction(start=WEEKS, end=WEEKS + 11).summary_frame(alpha=0.05)


def _full(values: list[float]) -> None:
    chosen = forecasting.forecast(values, 12)
    forecasting.backtest(values, spec=chosen.spec)


def _risk(values: list[float]) -> None:
    forecasting.quick_forecast(values[-26:], 4)


def main() -> None:
    """Prints the forecasts per second and their ratio to one bare statsmodels fit."""
    batch = [_series(seed) for seed in range(SERIES)]
    _bare_fit(batch[0])  # import and warm up statsmodels outside the timing
    ceiling = _per_second(_bare_fit, batch)
    report(
        "forecast (search + backtest)",
        _per_second(_full, batch),
        "series/s",
        ceiling,
        "one ETS fit",
    )
    report(
        "forecast (risk, fixed damped trend)",
        _per_second(_risk, batch),
        "series/s",
        ceiling,
        "one ETS fit",
    )


if __name__ == "__main__":
    main()
