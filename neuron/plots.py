"""Plots of simulation runs (spike rasters, population rates, plastic weights) and of the network graph."""

import numpy as np

from neuroshell.common.words import format_quantity
from neuroshell.storage.figures import new_figure

MAX_NEURONS_SHOWN = 400


def plot_raster(spikes: dict[str, tuple[np.ndarray, np.ndarray, int]], title: str):
    """``spikes``: population -> (times in s, neuron index, population size). At most 400 neurons of each
    population are drawn (evenly chosen), so large runs stay legible."""
    figure = new_figure(12, 7)
    axes = figure.add_subplot()
    offset = 0
    ticks = []
    for k, (name, (times, ids, size)) in enumerate(spikes.items()):
        step = max(1, int(np.ceil(size / MAX_NEURONS_SHOWN)))
        shown = ids % step == 0
        rows = ids[shown] // step
        axes.scatter(times[shown], rows + offset, s=6.0, color=f"C{k}", marker="|", linewidths=0.8, label=name)
        shown_rows = int(np.ceil(size / step))
        ticks.append((offset + shown_rows / 2, name))
        offset += shown_rows + 5
    axes.set_yticks([t for t, _ in ticks], [name for _, name in ticks])
    axes.set_xlabel("time (s)")
    axes.set_ylabel("neuron (every n-th shown for large populations)")
    axes.set_title(title)
    axes.set_ylim(-5, offset)
    return figure


def plot_rates(rates: dict[str, tuple[np.ndarray, float]], title: str, smooth_s: float = 5e-3):
    """``rates``: population -> (rate per bin in Hz, bin width in s), smoothed with a boxcar."""
    figure = new_figure(12, 5)
    axes = figure.add_subplot()
    for k, (name, (rate, bin_s)) in enumerate(rates.items()):
        width = max(1, round(smooth_s / bin_s))
        smoothed = np.convolve(rate, np.ones(width) / width, mode="same")
        axes.plot(
            np.arange(len(rate)) * bin_s,
            smoothed,
            color=f"C{k}",
            linewidth=0.8,
            label=f"{name} (mean {rate.mean():.2f} Hz)",
        )
    axes.set_xlabel("time (s)")
    axes.set_ylabel(f"population rate (Hz, {smooth_s * 1e3:g} ms boxcar)")
    axes.set_title(title)
    axes.legend()
    return figure


def plot_graph(network, title: str):
    """Populations as nodes sized by their neuron count, projections as labelled arrows."""
    import networkx as nx

    graph = network.as_graph()
    figure = new_figure(9, 7)
    axes = figure.add_subplot()
    positions = nx.circular_layout(graph) if len(graph) > 1 else {n: (0.0, 0.0) for n in graph}
    sizes = [300 + 2000 * np.sqrt(graph.nodes[n]["n"] / max(graph.nodes[m]["n"] for m in graph)) for n in graph]
    nx.draw_networkx_nodes(graph, positions, ax=axes, node_size=sizes, node_color="#87afd7")
    nx.draw_networkx_labels(
        graph,
        positions,
        ax=axes,
        labels={n: f"{n}\n{graph.nodes[n]['n']} {graph.nodes[n]['model']}" for n in graph},
        font_size=9,
    )
    nx.draw_networkx_edges(
        graph, positions, ax=axes, node_size=sizes, arrowstyle="-|>", arrowsize=18, connectionstyle="arc3,rad=0.15"
    )
    labels = {
        (s, t): f"{a['rule']}\n{format_quantity(a['weight'], a['weight_unit'])}" for s, t, a in graph.edges(data=True)
    }
    nx.draw_networkx_edge_labels(
        graph, positions, edge_labels=labels, ax=axes, font_size=7, connectionstyle="arc3,rad=0.15"
    )
    axes.set_title(title)
    axes.set_axis_off()
    return figure


def plot_weights(weights: dict[str, tuple[np.ndarray, np.ndarray, float, str]], title: str, bins: int = 40):
    """``weights``: projection -> (snapshot times in s, weights (n_snapshots, n_synapses), wmax, unit). Per
    projection: the distribution of weight / wmax over time (a heat map, share of synapses per bin) above
    the final histogram."""
    figure = new_figure(11, 4 * len(weights) + 1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for k, (name, (times, values, wmax, unit)) in enumerate(weights.items()):
        share = np.stack([np.histogram(row / wmax, edges)[0] / max(1, len(row)) for row in values])
        over_time = figure.add_subplot(len(weights), 2, 2 * k + 1)
        image = over_time.imshow(
            share.T, origin="lower", aspect="auto", cmap="viridis",
            extent=(times[0], times[-1] if len(times) > 1 else times[0] + 1, 0.0, 1.0),
        )  # fmt: skip
        figure.colorbar(image, ax=over_time, label="share of synapses")
        over_time.set_xlabel("time (s)")
        over_time.set_ylabel("weight / wmax")
        over_time.set_title(f"{name}: {values.shape[1]} synapses, wmax {wmax:.3g} {unit}")
        final = figure.add_subplot(len(weights), 2, 2 * k + 2)
        final.hist(values[-1] / wmax, edges, color=f"C{k}")
        low, high = np.mean(values[-1] / wmax < 0.1), np.mean(values[-1] / wmax > 0.9)
        final.set_xlabel("weight / wmax")
        final.set_ylabel("synapses")
        final.set_title(f"at {times[-1]:g} s: {low:.0%} below 0.1 wmax, {high:.0%} above 0.9")
    figure.suptitle(title)
    return figure
