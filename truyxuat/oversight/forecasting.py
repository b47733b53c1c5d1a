"""Weekly demand forecasts with prediction intervals, and their rolling-origin backtest.

Pure (no database): the service hands in a list of weekly values and gets back a forecast.
Models are additive-error exponential smoothing (statsmodels' `ETSModel`), chosen by AICc
among the candidates the history allows; a history too short or flat for them gets the naive
last-value forecast with an empirical interval, flagged as such. Demand never goes below 0.
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

VIETNAM = timezone(timedelta(hours=7))
DEFAULT_HORIZON = 12
MAX_HORIZON = 52
# Fewer points than this and no model is fitted: the naive forecast is all there is.
MIN_MODEL_POINTS = 6
# Candidate seasons in weeks: a month, a quarter, a year. A season is tried only with at
# least two full cycles of history.
SEASONS = (4, 13, 52)
# Seasonal models take their initial states from the first two cycles (statsmodels'
# heuristic) rather than estimating them: 4 to 52 extra free parameters make a fit 5 to 100
# times slower for no better forecast.
LEVELS = (80, 95)
_Z = {80: 1.2815515655446004, 95: 1.959963984540054}


class ModelKind(enum.StrEnum):
    """The family of the model a forecast came from."""

    naive = "naive"
    simple = "simple"
    trend = "trend"
    seasonal = "seasonal"


@dataclass(frozen=True)
class ModelSpec:
    """One exponential smoothing model: additive error, optional (damped) trend and season."""

    trend: bool = False
    damped: bool = False
    season: int | None = None
    naive: bool = False

    @property
    def kind(self) -> ModelKind:
        """naive, simple (level only), trend or seasonal."""
        if self.naive:
            return ModelKind.naive
        if self.season:
            return ModelKind.seasonal
        return ModelKind.trend if self.trend else ModelKind.simple

    @property
    def code(self) -> str:
        """The ETS taxonomy code, e.g. `ETS(A,Ad,A)[52]`, or `naive`."""
        if self.naive:
            return "naive"
        trend = ("Ad" if self.damped else "A") if self.trend else "N"
        season = f"A)[{self.season}]" if self.season else "N)"
        return f"ETS(A,{trend},{season}"


NAIVE = ModelSpec(naive=True)


@dataclass(frozen=True)
class Forecast:
    """Point forecasts for the next weeks and their 80 % and 95 % prediction intervals."""

    spec: ModelSpec
    mean: list[float]
    lower: dict[int, list[float]]
    upper: dict[int, list[float]]
    aicc: float | None = None
    # Why the naive forecast was used: "short", "flat" or "failed" (no model could be fitted).
    fallback: str | None = None

    @property
    def horizon(self) -> int:
        """How many weeks ahead."""
        return len(self.mean)


@dataclass(frozen=True)
class Errors:
    """Forecast errors over a backtest; MAPE and sMAPE are percentages.

    MAPE skips the weeks whose actual value is 0 (the error would be infinite) and is None
    when every actual was 0; sMAPE skips weeks where actual and forecast are both 0.
    """

    mae: float
    mape: float | None
    smape: float | None
    points: int
    mape_points: int


@dataclass(frozen=True)
class Backtest:
    """A rolling-origin evaluation of the chosen model against the naive last-value forecast."""

    spec: ModelSpec
    origins: int
    horizon: int
    model: Errors
    naive: Errors
    actuals: list[float] = field(default_factory=list)

    @property
    def beats_naive(self) -> bool:
        """True when the model's MAPE (MAE when MAPE is undefined) is below the naive one's."""
        if self.model.mape is not None and self.naive.mape is not None:
            return self.model.mape < self.naive.mape
        return self.model.mae < self.naive.mae


# --- weekly series ------------------------------------------------------------------------


def week_start(moment: datetime | date) -> date:
    """The Monday (Viet Nam time) of the ISO week a moment falls in."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:  # stored times are UTC without a zone
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(VIETNAM).date()
    return moment - timedelta(days=moment.weekday())


def weekly_series(
    points: Iterable[tuple[datetime | date, float]],
    *,
    first: date | None = None,
    last: date | None = None,
) -> tuple[list[date], list[float]]:
    """Sums values by ISO week, with weeks without any value filled with 0.

    The series runs from `first` (or the earliest point's week) to `last` (or the latest's).
    """
    totals: dict[date, float] = {}
    for moment, value in points:
        week = week_start(moment)
        totals[week] = totals.get(week, 0.0) + float(value)
    if not totals and (first is None or last is None):
        return [], []
    start = week_start(first) if first else min(totals)
    end = week_start(last) if last else max(totals)
    weeks: list[date] = []
    week = start
    while week <= end:
        weeks.append(week)
        week += timedelta(weeks=1)
    return weeks, [totals.get(w, 0.0) for w in weeks]


def future_weeks(last_week: date, horizon: int) -> list[date]:
    """The Mondays of the `horizon` weeks after `last_week`."""
    return [last_week + timedelta(weeks=i) for i in range(1, horizon + 1)]


# --- models ---------------------------------------------------------------------------------


def candidates(length: int) -> list[ModelSpec]:
    """The models a history of `length` weeks can support, simplest first."""
    if length < MIN_MODEL_POINTS:
        return []
    specs = [ModelSpec()]
    if length >= 8:
        specs += [ModelSpec(trend=True), ModelSpec(trend=True, damped=True)]
    for season in SEASONS:
        if length >= 2 * season + 2:
            specs += [
                ModelSpec(season=season),
                ModelSpec(trend=True, damped=True, season=season),
            ]
    return specs


def _fit(values: np.ndarray, spec: ModelSpec, horizon: int) -> Forecast | None:
    """Fits one model and forecasts; None when it fails or gives non-finite numbers."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    heuristic = spec.season is not None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # statsmodels warns on convergence and on degenerate likelihoods: a bad fit is
            # caught below by its numbers, not by its warnings.
            warnings.simplefilter("ignore")
            model = ETSModel(
                pd.Series(values),
                error="add",
                trend="add" if spec.trend else None,
                damped_trend=spec.damped,
                seasonal="add" if spec.season else None,
                seasonal_periods=spec.season,
                initialization_method="heuristic" if heuristic else "estimated",
            )
            result = model.fit(disp=False, maxiter=500)
            n = len(values)
            prediction = result.get_prediction(start=n, end=n + horizon - 1)
            frames = {level: prediction.summary_frame(alpha=1 - level / 100) for level in LEVELS}
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError, IndexError):
        return None
    mean = frames[95]["mean"].to_numpy(dtype=float)
    lows = {level: frames[level]["pi_lower"].to_numpy(dtype=float) for level in LEVELS}
    highs = {level: frames[level]["pi_upper"].to_numpy(dtype=float) for level in LEVELS}
    if not np.all(np.isfinite(mean)) or not all(
        np.all(np.isfinite(a)) for a in (*lows.values(), *highs.values())
    ):
        return None
    # AICc with k = smoothing parameters + initial states + the error variance, as in
    # Hyndman's ets. Heuristic initial states are computed from the data too, so they count
    # like estimated ones (statsmodels leaves them out of its AICc, which would favour
    # seasonal models with spurious seasons on short, noisy histories).
    states = 1 + int(spec.trend) + (spec.season or 0)
    k = len(result.params) + (states if heuristic else 0) + 1
    llf = float(result.llf)
    if not math.isfinite(llf) or n - k - 1 <= 0:
        return None
    aicc = -2 * llf + 2 * k + 2 * k * (k + 1) / (n - k - 1)
    return Forecast(
        spec=spec,
        mean=_clip(mean),
        lower={level: _clip(lows[level]) for level in LEVELS},
        upper={level: _clip(highs[level]) for level in LEVELS},
        aicc=aicc,
    )


def _clip(values: Iterable[float]) -> list[float]:
    """Demand is never negative."""
    return [max(0.0, float(v)) for v in values]


def naive_forecast(
    values: Sequence[float], horizon: int, *, fallback: str | None = None
) -> Forecast:
    """The last value repeated, with an interval from the spread of week-to-week changes.

    The one-step error of the naive forecast is the week-to-week change; its root mean
    square, times √h, gives the interval h weeks ahead (a random walk).
    """
    last = float(values[-1]) if len(values) else 0.0
    changes = np.diff(np.asarray(values, dtype=float))
    sigma = float(np.sqrt(np.mean(changes**2))) if changes.size else 0.0
    steps = np.sqrt(np.arange(1, horizon + 1))
    return Forecast(
        spec=NAIVE,
        mean=[max(0.0, last)] * horizon,
        lower={level: _clip(last - _Z[level] * sigma * steps) for level in LEVELS},
        upper={level: _clip(last + _Z[level] * sigma * steps) for level in LEVELS},
        fallback=fallback,
    )


def quick_forecast(
    values: Sequence[float],
    horizon: int,
    *,
    alpha: float = 0.3,
    beta: float = 0.1,
    phi: float = 0.9,
) -> list[float]:
    """Point forecasts of damped-trend Holt smoothing with fixed parameters (no fitting).

    For ranking hundreds of products at once, where a fitted model per product would take
    seconds: the level follows each week by `alpha`, the trend by `beta`, and the trend dies
    out by `phi` a week ahead. Starts from the first value and the first change.
    """
    if not len(values):
        return [0.0] * horizon
    level = float(values[0])
    trend = float(values[1]) - level if len(values) > 1 else 0.0
    for value in values[1:]:
        previous = level
        level = alpha * float(value) + (1 - alpha) * (level + phi * trend)
        trend = beta * (level - previous) + (1 - beta) * phi * trend
    out: list[float] = []
    damping = 0.0
    for step in range(1, horizon + 1):
        damping += phi**step
        out.append(max(0.0, level + damping * trend))
    return out


def choose(values: Sequence[float]) -> ModelSpec:
    """The model of lowest AICc among those the history supports (naive if none fits)."""
    return forecast(values, 1).spec


def forecast(
    values: Sequence[float], horizon: int = DEFAULT_HORIZON, *, spec: ModelSpec | None = None
) -> Forecast:
    """Forecasts `horizon` weeks after `values`, with the given model or the best by AICc."""
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    array = np.asarray(values, dtype=float)
    if array.size < MIN_MODEL_POINTS:
        return naive_forecast(values, horizon, fallback="short")
    if float(np.ptp(array)) == 0.0:
        return naive_forecast(values, horizon, fallback="flat")
    if spec is not None and spec.naive:
        return naive_forecast(values, horizon)
    specs = [spec] if spec is not None else candidates(array.size)
    fitted = [f for f in (_fit(array, s, horizon) for s in specs) if f is not None]
    if not fitted:
        return naive_forecast(values, horizon, fallback="failed")
    return min(fitted, key=lambda f: f.aicc if f.aicc is not None else math.inf)


# --- backtest -------------------------------------------------------------------------------


def errors(actual: Sequence[float], predicted: Sequence[float]) -> Errors:
    """MAE, MAPE (skipping zero actuals) and sMAPE of paired values."""
    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    mae = float(np.mean(np.abs(a - p))) if a.size else 0.0
    nonzero = a != 0
    mape = (
        float(np.mean(np.abs((a[nonzero] - p[nonzero]) / a[nonzero])) * 100)
        if nonzero.any()
        else None
    )
    denominator = np.abs(a) + np.abs(p)
    kept = denominator != 0
    smape = (
        float(np.mean(2 * np.abs(a[kept] - p[kept]) / denominator[kept]) * 100)
        if kept.any()
        else None
    )
    return Errors(
        mae=mae, mape=mape, smape=smape, points=int(a.size), mape_points=int(nonzero.sum())
    )


def backtest(
    values: Sequence[float], *, horizon: int = 4, origins: int = 8, spec: ModelSpec | None = None
) -> Backtest | None:
    """Rolling-origin backtest over the last `origins` forecast origins, `horizon` weeks each.

    At each origin the model is refitted on the weeks before it and forecasts the next
    `horizon` weeks, as does the naive last-value forecast; the errors pool all the forecast
    weeks. The model family is the one chosen on the whole history (or `spec`). None when the
    history is too short to leave `MIN_MODEL_POINTS` weeks of training before the first origin.
    """
    array = np.asarray(values, dtype=float)
    last_origin = array.size - horizon
    first_origin = max(MIN_MODEL_POINTS, last_origin - origins + 1)
    if last_origin < first_origin:
        return None
    chosen = spec if spec is not None else choose(values)
    actual: list[float] = []
    model: list[float] = []
    naive: list[float] = []
    for origin in range(first_origin, last_origin + 1):
        train = array[:origin].tolist()
        # A model needing more history than this origin leaves falls back to the best one
        # the shorter history supports.
        usable = chosen if chosen.naive or chosen in candidates(origin) else None
        model += forecast(train, horizon, spec=usable).mean
        naive += naive_forecast(train, horizon).mean
        actual += [float(v) for v in array[origin : origin + horizon]]
    return Backtest(
        spec=chosen,
        origins=last_origin - first_origin + 1,
        horizon=horizon,
        model=errors(actual, model),
        naive=errors(actual, naive),
        actuals=actual,
    )
