"""The simulator's state as a few named records of arrays, in the layout the kernels read (numba takes
named tuples of arrays). Built by ``simulator.compile_network``; no numba here.

Neurons are numbered globally, population after population. A population's synaptic channels (one per
distinct synapse kind, time constant and reversal potential onto it) each hold one value per neuron in
``State.x``; projections are CSR matrices from source rows to target indices local to the target.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from neuroshell.neuron.description import Stdp


@dataclass
class DrawnProjection:
    """One projection as the compiler lays it out: ``p_src``/``p_tgt`` the populations' numbers, ``channel``
    the target's synaptic channel, ``weight`` in V (S for cond; currents already through the membrane's
    resistance), ``delay_steps`` at least 1, ``rule`` the arguments of ``connectivity.build_csr`` (kind,
    value, n_source, n_target, seed); ``indptr`` (n_source + 1,) int64 and ``indices`` int32 once drawn."""

    source: str
    target: str
    p_src: int
    p_tgt: int
    channel: int
    weight: float
    delay_steps: int
    rule: tuple
    plasticity: Stdp | None  # None for static synapses
    indptr: np.ndarray | None = None
    indices: np.ndarray | None = None


class Connectivity(NamedTuple):
    """One projection's synapses as CSR views into the kernel's arrays: row ``i`` of ``indptr`` (n_source + 1,)
    gives source neuron ``i``'s targets, ``indices`` (int32), local to the target population."""

    source: str
    target: str
    indptr: np.ndarray
    indices: np.ndarray


class PopulationSpan(NamedTuple):
    """Where a population's neurons are among all of a network's: ``start`` (the first's global index), ``size``."""

    start: int
    size: int


class Populations(NamedTuple):
    start: np.ndarray  # (n_pops,) int64: first global index
    stop: np.ndarray  # (n_pops,) int64: one past the last
    model: np.ndarray  # (n_pops,) int64: layout.LIF, ADEX or IZH
    params: np.ndarray  # (n_pops, layout.N_PARAMS) float64, SI
    ch_ptr: np.ndarray  # (n_pops + 1,) int64: the population's channels are ch_ptr[p]:ch_ptr[p + 1]
    cond: np.ndarray  # (n_pops,) bool: has conductance-based channels
    proj_ptr: np.ndarray  # (n_pops + 1,) int64: projections leaving the population, in Projections.order
    due_offset: np.ndarray  # (n_pops,) int64: a Poisson population's first block in State.due


class Channels(NamedTuple):
    kind: np.ndarray  # (n_channels,) int64: layout.EXP, COND or DELTA
    offset: np.ndarray  # (n_channels,) int64: where the channel's values start in State.x
    decay: np.ndarray  # (n_channels,) float64: exp(-dt / tau) per step (0 for delta)
    erev: np.ndarray  # (n_channels,) float64: reversal potential (V) of cond channels
    pmx: np.ndarray  # (n_channels,) float64: the share of x that reaches v in one step (exact LIF)


class Projections(NamedTuple):
    order: np.ndarray  # (n_proj,) int64
    src_start: np.ndarray  # (n_proj,) int64: global index of the source population's first neuron
    tgt_offset: np.ndarray  # (n_proj,) int64: the target channel's offset in State.x
    weight: np.ndarray  # (n_proj,) float64: one weight per static projection (V, or S for cond)
    delay: np.ndarray  # (n_proj,) int64: steps, at least 1
    indptr_offset: np.ndarray  # (n_proj,) int64: the projection's rows in indptr
    indices_offset: np.ndarray  # (n_proj,) int64: the projection's targets in indices
    indptr: np.ndarray  # int64, all projections' row starts
    indices: np.ndarray  # int32, all projections' targets
    plastic: np.ndarray  # (n_proj,) int64: the projection's number in Plastic, -1 for a static one
    n_tgt: np.ndarray  # (n_proj,) int64: the target population's size
    # Set per run for its number of parts (``kernels.propagate.row_splits``; empty for one part):
    row_split: np.ndarray  # int32: per row, where parts 1 .. n_parts - 1 begin, from the row's start
    split_offset: np.ndarray  # (n_proj,) int64: the projection's first entry in row_split


class Plastic(NamedTuple):
    """The projections with STDP (see ``kernels.plasticity``), b = 0 .. n_plastic - 1."""

    proj: np.ndarray  # (n_plastic,) int64: the projection's index in Projections
    tgt_pop: np.ndarray  # (n_plastic,) int64
    tgt_start: np.ndarray  # (n_plastic,) int64: global index of the target population's first neuron
    n_src: np.ndarray  # (n_plastic,) int64
    n_tgt: np.ndarray  # (n_plastic,) int64
    delay: np.ndarray  # (n_plastic,) int64: steps from a spike to its arrival
    rule: np.ndarray  # (n_plastic,) int64: kernels.plasticity.ADDITIVE or MULTIPLICATIVE
    apre: np.ndarray  # (n_plastic,) float64: trace jumps, fractions of wmax (apost < 0 depresses)
    apost: np.ndarray  # (n_plastic,) float64
    wmax: np.ndarray  # (n_plastic,) float64: in the weight's unit
    decay_pre: np.ndarray  # (n_plastic,) float64: exp(-dt / taupre)
    decay_post: np.ndarray  # (n_plastic,) float64
    w_offset: np.ndarray  # (n_plastic,) int64: the projection's synapses in weights (CSR order)
    weights: np.ndarray  # float32: every plastic synapse's weight
    col_offset: np.ndarray  # (n_plastic,) int64: the projection's column starts in col_ptr (n_tgt + 1 each)
    col_ptr: np.ndarray  # int64: per target, its incoming synapses' span in col_syn and col_src
    col_syn: np.ndarray  # int32: synapse number within the projection
    col_src: np.ndarray  # int32: its source within the source population
    pre_offset: np.ndarray  # (n_plastic,) int64
    pre_trace: np.ndarray  # float64: per source neuron and plastic projection, as of its last change
    pre_last: np.ndarray  # float64: the step it last changed
    post_offset: np.ndarray  # (n_plastic,) int64
    post_trace: np.ndarray  # float64: per target neuron and plastic projection, as of its last change
    post_last: np.ndarray  # float64
    queue_offset: np.ndarray  # (n_plastic,) int64: the projection's columns in queue (n_src each)
    queue: np.ndarray  # (delay depth, sum of n_src) int32: sources whose spikes arrive at that step
    queue_count: np.ndarray  # (delay depth, n_plastic) int64


class Drive(NamedTuple):
    poisson_pop: np.ndarray  # (n_poisson,) int64: population driven
    poisson_channel: np.ndarray  # (n_poisson,) int64: channel it arrives in
    poisson_lambda: np.ndarray  # (n_poisson,) float64: expected arrivals per neuron and step
    poisson_weight: np.ndarray  # (n_poisson,) float64
    i_const: np.ndarray  # (n_neurons,) float64: constant current (A)
    i_column: np.ndarray  # (n_neurons,) int64: column of i_table, -1 for none
    i_gain: np.ndarray  # (n_neurons,) float64
    i_table: np.ndarray  # (n_steps, n_columns) float64: time-varying currents (A)


class State(NamedTuple):
    v: np.ndarray  # (n_neurons,) float64, V
    w: np.ndarray  # (n_neurons,) float64: adaptation (AdEx: A; Izhikevich: u)
    ref_until: np.ndarray  # (n_neurons,) float32: step from which a neuron integrates again
    x: np.ndarray  # (sum of channel sizes + 2 * largest population,) float32: synaptic state
    ring: np.ndarray  # (delay depth, channels' length in x) float32: arrivals of delayed spikes by step
    due: np.ndarray  # (blocks of all Poisson populations,) float64: per block of sources, its earliest next spike


class Output(NamedTuple):
    spike_step: np.ndarray  # (capacity,) int64
    spike_index: np.ndarray  # (capacity,) int64: global neuron index
    record_index: np.ndarray  # (n_record,) int64: neurons whose v is traced
    record_v: np.ndarray  # (n_steps of the chunk, n_record) float64
    pop_counts: np.ndarray  # (n_steps of the chunk, n_pops) int64


class Work(NamedTuple):
    """Where the parts of a step list their spikes: each population has its own stretch of the arrays,
    from ``offset[p]`` (a multiple of 64), so parts updating different populations never share one."""

    scratch: np.ndarray  # (3 * stretches' length,) float64: a population's from 3 * offset[p]
    flags: np.ndarray  # (stretches' length,) int8: spike flags of the population's neurons
    found: np.ndarray  # (stretches' length,) int32: the flagged neurons, each part's from its first neuron on
    offset: np.ndarray  # (n_pops,) int64
    counts: np.ndarray  # (n_parts, n_pops) int64: spikes each part found in each population this step
    keys: np.ndarray  # (n_poisson,) uint64: this step's key of each Poisson input (``kernels.drive``)


class WeightHistory(NamedTuple):
    """A plastic projection's weights over a run: ``times_s`` (n_snapshots,) s from the run's start, ``weights``
    (n_snapshots, n_synapses) float32 in CSR order, in ``unit`` (the projection's weight unit), up to ``wmax``."""

    times_s: np.ndarray
    weights: np.ndarray
    unit: str
    wmax: float
