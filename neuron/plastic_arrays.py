"""The arrays a network's plastic projections run on (the ``Plastic`` record, ``pl_`` names), built from the
projections the compiler drew; the description is ``plasticity``, the kernel ``kernels.plasticity``."""

import numpy as np

from neuroshell.neuron.plasticity import initial_weights
from neuroshell.neuron.records import DrawnProjection, Plastic


def plastic_arrays(
    projections: list[DrawnProjection], sizes: list[int], starts: np.ndarray, dt: float, seed: int
) -> dict[str, np.ndarray]:
    """The Plastic record's arrays (``pl_`` names) and each projection's number in it (-1: static).
    ``sizes`` and ``starts``: each population's neuron count and first global index."""
    from neuroshell.neuron.kernels.plasticity import ADDITIVE, MULTIPLICATIVE

    chosen = [q for q, item in enumerate(projections) if item.plasticity is not None]
    columns: dict[str, list] = {name: [] for name in Plastic._fields}
    for q in chosen:
        item = projections[q]
        spec, indptr, indices, p_tgt = item.plasticity, item.indptr, item.indices, item.p_tgt
        n_src, n_tgt = sizes[item.p_src], sizes[p_tgt]
        sources = np.repeat(np.arange(n_src, dtype=np.int32), np.diff(indptr))
        by_target = np.argsort(indices, kind="stable").astype(np.int32)  # the CSC view: incoming synapses
        counts = np.bincount(indices, minlength=n_tgt)
        row = [
            q,
            p_tgt,
            starts[p_tgt],
            n_src,
            n_tgt,
            item.delay_steps,
            MULTIPLICATIVE if spec.rule == "multiplicative" else ADDITIVE,
        ]
        row += [
            spec.apre,
            spec.apost,
            spec.wmax,
            np.exp(-dt / spec.taupre_s),
            np.exp(-dt / spec.taupost_s),
        ]
        for name, value in zip(Plastic._fields[:12], row, strict=True):
            columns[name].append(value)
        columns["weights"].append(
            initial_weights(spec, item.weight, len(indices), seed, f"{item.source} -> {item.target}")
        )
        at = sum(len(part) for part in columns["col_syn"])
        columns["col_ptr"].append(at + np.concatenate([[0], np.cumsum(counts)]))
        columns["col_syn"].append(by_target)
        columns["col_src"].append(sources[by_target])
    n_plastic = len(chosen)
    arrays = {f"pl_{name}": np.array(columns[name], dtype=dtype) for name, dtype in PLASTIC_SCALARS}
    for name, dtype in (("weights", np.float32), ("col_ptr", np.int64), ("col_syn", np.int32), ("col_src", np.int32)):
        arrays[f"pl_{name}"] = np.concatenate(columns[name]).astype(dtype) if n_plastic else np.zeros(0, dtype)
    sizes = {"w_offset": [len(w) for w in columns["weights"]], "col_offset": [n + 1 for n in columns["n_tgt"]]}
    sizes |= {"pre_offset": columns["n_src"], "post_offset": columns["n_tgt"], "queue_offset": columns["n_src"]}
    for name, lengths in sizes.items():
        arrays[f"pl_{name}"] = np.cumsum([0, *lengths])[:-1].astype(np.int64)
    arrays["pl_pre_trace"] = np.zeros(int(sum(columns["n_src"])))
    arrays["pl_post_trace"] = np.zeros(int(sum(columns["n_tgt"])))
    arrays["pl_pre_last"] = np.zeros_like(arrays["pl_pre_trace"])
    arrays["pl_post_last"] = np.zeros_like(arrays["pl_post_trace"])
    depth = max([2] + [d + 1 for d in columns["delay"]])
    arrays["pl_queue"] = np.zeros((depth, int(sum(columns["n_src"]))), dtype=np.int32)
    arrays["pl_queue_count"] = np.zeros((depth, n_plastic), dtype=np.int64)
    plastic = np.full(len(projections), -1, dtype=np.int64)
    plastic[chosen] = np.arange(n_plastic)
    arrays["proj_plastic"] = plastic
    return arrays


PLASTIC_SCALARS = [(name, np.int64) for name in ("proj", "tgt_pop", "tgt_start", "n_src", "n_tgt", "delay", "rule")]
PLASTIC_SCALARS += [(name, np.float64) for name in ("apre", "apost", "wmax", "decay_pre", "decay_post")]
