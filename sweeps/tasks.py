"""The work of one sweep point, as it runs in a Dask worker: plain data in (a network's JSON, SI values),
plain data out (summaries and arrays). A worker needs only neuroshell installed."""

import time

import numpy as np

MIN_SPIKES_FOR_CV = 3  # a neuron's ISI CV needs at least two intervals


def warm_simulator() -> None:
    """Run a two-neuron network for a millisecond, so that this process has loaded the simulator's compiled
    kernels (numba reads them from its cache on first call, a quarter of a second) before real points come."""
    from neuroshell.neuron.description import PoissonInput
    from neuroshell.neuron.network import Network
    from neuroshell.neuron.simulator import simulate

    network = Network("warm-up")
    network.add_population("a", "lif", 2)
    network.connect("a", "a", "all", 1e-3, "V")
    network.replace_input("a", PoissonInput(10.0, 1, 1e-3, "V", "exp", 5e-3))
    simulate(network, 1e-3, dt_s=1e-4, seed=0, threads=1)


def warm_trainer() -> None:
    """Import torch and the trainer in this process before real points come."""
    import neuroshell.training.trainer  # noqa: F401


def simulate_point(
    network_json: str,
    addresses: list,
    values: tuple[float, ...],
    duration_s: float,
    dt_s: float,
    seed: int,
    keep_spikes: bool,
) -> dict:
    """Build the network with the point's values and simulate it. Returns ``wall_s``, ``summary``
    ({"POP.rate_hz", "POP.cv_isi", "POP.spikes": number}) and, with ``keep_spikes``, ``spikes``
    ({POP: (times s, node ids, n)})."""
    from neuroshell.neuron.network import Network
    from neuroshell.neuron.simulator import simulate
    from neuroshell.sweeps.grid import apply

    started = time.perf_counter()
    network = Network.from_json(network_json)
    for address, value in zip(addresses, values, strict=True):
        apply(network, address, value)
    result = simulate(network, duration_s, dt_s=dt_s, seed=seed, threads=1)  # a worker process per core
    summary, spikes = {}, {}
    for population, (_, size) in result.populations.items():
        times, ids = result.spikes_of(population)
        summary[f"{population}.rate_hz"] = len(times) / (size * duration_s)
        summary[f"{population}.cv_isi"] = cv_isi(times, ids)
        summary[f"{population}.spikes"] = float(len(times))
        if keep_spikes:
            spikes[population] = (times, ids, size)
    return {"wall_s": time.perf_counter() - started, "summary": summary, "spikes": spikes}


def cv_isi(times_s: np.ndarray, ids: np.ndarray) -> float:
    """Mean over neurons with at least three spikes of std(ISI) / mean(ISI); NaN when none has."""
    order = np.lexsort((times_s, ids))
    times_s, ids = times_s[order], ids[order]
    within = ids[1:] == ids[:-1]
    owner, isi = ids[1:][within], np.diff(times_s)[within]
    count = np.bincount(owner)
    total, squares = np.bincount(owner, isi), np.bincount(owner, isi * isi)
    enough = (count >= MIN_SPIKES_FOR_CV - 1) & (total > 0)
    if not enough.any():
        return float("nan")
    mean = total[enough] / count[enough]
    spread = np.sqrt(np.maximum(squares[enough] / count[enough] - mean * mean, 0.0))
    return float(np.mean(spread / mean))


def train_point(dataset, recipe: dict, settings: dict, seed: int, name: str) -> dict:
    """Train one decoder (``training.trainer.train``) with ``settings`` (epochs, lr, batch) and evaluate it
    on the test split. Returns ``wall_s``, ``summary`` and the ``model`` (a TrainedModel)."""
    import torch

    from neuroshell.training.evaluation import evaluate
    from neuroshell.training.trainer import train

    torch.set_num_threads(1)  # one point per core: threads would contend
    started = time.perf_counter()
    trained = train(dataset, recipe, name, settings["epochs"], settings["lr"], settings["batch"], "cpu", seed)
    best = trained.history[trained.best_epoch - 1] if trained.history else {}
    metrics = evaluate(trained, dataset)
    summary = {
        "val_accuracy": float(best.get("val_accuracy", float("nan"))),
        "val_loss": float(best.get("val_loss", float("nan"))),
        "accuracy": float(metrics["accuracy"]),
        "balanced_accuracy": float(metrics["balanced_accuracy"]),
        "loss": float(best.get("loss", float("nan"))),
    }
    return {"wall_s": time.perf_counter() - started, "summary": summary, "model": trained}
