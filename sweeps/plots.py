"""A sweep's measure against one parameter (a line, mean and spread over seeds) or two (a heat map)."""

import numpy as np

from neuroshell.storage.figures import new_figure
from neuroshell.sweeps.grid import SweepError


def pick_measure(sweep: dict, name: str) -> str:
    """The summary measure ``name`` means: itself, or the one it begins (``exc.rate`` -> ``exc.rate_hz``)."""
    measures = list(sweep["summary"])
    if name in measures:
        return name
    matches = [m for m in measures if m.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    raise SweepError(f"no measure '{name}' in this sweep (measures: {', '.join(measures) or 'none yet'})")


def column(sweep: dict, name: str) -> int:
    if name not in sweep["columns"]:
        raise SweepError(f"'{name}' is not varied in this sweep (varied: {', '.join(sweep['columns'])})")
    return sweep["columns"].index(name)


def _ticks(sweep: dict, index: int, values: np.ndarray) -> list[str]:
    choices = sweep["choices"][index]
    return [choices[int(v)] if choices else f"{v:.4g}" for v in values]


def _label(sweep: dict, index: int) -> str:
    unit = sweep["units"][index]
    return f"{sweep['columns'][index]} ({unit})" if unit else sweep["columns"][index]


def plot_sweep(sweep: dict, x: str, y: str | None, measure: str, title: str):
    """Plot ``measure`` over parameter ``x`` (and ``y``): points that finished, averaged over seeds and over
    any other varied parameter. Returns the figure and how many points went in."""
    values, result = sweep["values"], sweep["summary"][measure]
    done = np.array([s == "done" for s in sweep["state"]]) & np.isfinite(result)
    if not done.any():
        raise SweepError(f"no finished point has a value of {measure} yet")
    ix = column(sweep, x)
    xs = np.unique(values[done, ix])
    figure = new_figure(8, 6)
    axes = figure.add_subplot()
    if y is None:
        means = [result[done & (values[:, ix] == v)].mean() for v in xs]
        spread = [result[done & (values[:, ix] == v)].std() for v in xs]
        positions = np.arange(len(xs)) if sweep["choices"][ix] else xs
        axes.errorbar(positions, means, yerr=spread, marker="o", capsize=3)
        if sweep["choices"][ix]:
            axes.set_xticks(positions, _ticks(sweep, ix, xs))
        axes.set_xlabel(_label(sweep, ix))
        axes.set_ylabel(f"{measure} (mean ± sd)")
    else:
        iy = column(sweep, y)
        ys = np.unique(values[done, iy])
        grid = np.full((len(ys), len(xs)), np.nan)
        for row, vy in enumerate(ys):
            for col, vx in enumerate(xs):
                chosen = done & (values[:, ix] == vx) & (values[:, iy] == vy)
                if chosen.any():
                    grid[row, col] = result[chosen].mean()
        image = axes.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        axes.set_xticks(range(len(xs)), _ticks(sweep, ix, xs))
        axes.set_yticks(range(len(ys)), _ticks(sweep, iy, ys))
        axes.set_xlabel(_label(sweep, ix))
        axes.set_ylabel(_label(sweep, iy))
        figure.colorbar(image, ax=axes, label=f"{measure} (mean)")
    axes.set_title(title)
    return figure, int(done.sum())
