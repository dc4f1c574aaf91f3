"""Spike propagation: each spike of a step through the static CSR projections leaving its population,
straight into the target's synaptic state (a one-step delay) or into the ring buffer of later steps."""

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic

from neuroshell.neuron.kernels.collect import population_of
from neuroshell.neuron.kernels.membrane import part_range

# Spikes whose target rows are fetched from memory ahead of their propagation. A row of ~80 targets spans a
# few cache lines at a random place in a large array: too short for the hardware prefetcher to pick up.
# Where a row starts (indptr) is itself a random read, so the row starts are fetched further ahead: else
# each row's prefetch waited on that read, and a step's deliveries ran at one memory latency per row.
PREFETCH_AHEAD = 8
STARTS_AHEAD = 32
INDICES_PER_LINE = 16  # int32 indices in a 64-byte cache line


@intrinsic
def _prefetch(typingctx, array, index):
    """Hint the CPU to bring ``array[index]`` into cache (LLVM's prefetch: read, high locality)."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        prefetch = cgutils.get_or_insert_function(builder.module, function_type, "llvm.prefetch.p0i8")
        flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), *flags])
        return context.get_dummy_value()

    return numba.types.void(array, index), codegen


@numba.njit(inline="always")
def _prefetch_row_starts(i, pop_stop, proj_ptr, order, src_start, indptr_offset, indptr, splits, n_parts):
    """Prefetch where neuron ``i``'s rows start, in every projection leaving its population, and where they
    split between parts (``splits``: row_split and split_offset of Projections)."""
    p = population_of(i, pop_stop)
    for e in range(proj_ptr[p], proj_ptr[p + 1]):
        q = order[e]
        _prefetch(indptr, indptr_offset[q] + i - src_start[q])
        if n_parts > 1:
            _prefetch(splits[0], _split_at(splits[1], q, i - src_start[q], n_parts))


@numba.njit(inline="always")
def _prefetch_rows(i, pop_stop, proj_ptr, order, src_start, indptr_offset, indices_offset, indptr, indices, splits,
                   part, n_parts):  # fmt: skip
    """Prefetch the part's share of neuron ``i``'s target indices in every projection leaving its population."""
    p = population_of(i, pop_stop)
    for e in range(proj_ptr[p], proj_ptr[p + 1]):
        q = order[e]
        first, last = _share(indptr_offset, indptr, splits, q, i - src_start[q], part, n_parts)
        offset = indices_offset[q]
        for k in range(first, last, INDICES_PER_LINE):
            _prefetch(indices, offset + k)
        if last > first:  # a row that starts mid-line ends on one more line
            _prefetch(indices, offset + last - 1)


@numba.njit(inline="always")
def _share(indptr_offset, indptr, splits, q, row, part, n_parts):
    """Part ``part``'s span of projection ``q``'s row ``row`` (all of it for one part): the targets it
    updates, so their state stays in one core's cache (split before the run: ``row_splits``)."""
    base = indptr_offset[q] + row
    first, last = indptr[base], indptr[base + 1]
    if n_parts > 1:
        at, row_start = _split_at(splits[1], q, row, n_parts), first
        if part > 0:
            first = row_start + splits[0][at + part - 1]
        if part < n_parts - 1:
            last = row_start + splits[0][at + part]
    return first, last


@numba.njit(inline="always")
def _split_at(split_offset, q, row, n_parts):
    """Where projection ``q``'s row ``row`` keeps its n_parts - 1 split points in row_split."""
    return split_offset[q] + row * (n_parts - 1)


@numba.njit(inline="always")
def _first_at_least(indices, offset, first, last, target):
    """The first k in first:last with indices[offset + k] >= target (last if none)."""
    while first < last:
        middle = (first + last) // 2
        if indices[offset + middle] < target:
            first = middle + 1
        else:
            last = middle
    return first


@numba.njit(inline="always")
def propagate_spikes(t, first_spike, n_spikes, pops, proj, state, spike_index, part, n_parts):
    """Deliver spikes ``first_spike:n_spikes`` of ``spike_index`` (all of step ``t``) through the static
    projections (``plasticity.queue_spikes`` takes the plastic ones).

    Part ``part`` of ``n_parts`` delivers to its share of each projection's targets only (the same neurons as
    its membrane update, so their state stays in one core's cache), so parts run in parallel without
    sharing a target; each target still receives its inputs in spike order, so its sum, and the run's
    spikes, do not depend on the number of parts."""
    # The records' arrays are taken out once: a field taken inside the loops costs a reference count each time.
    x, ring = state.x, state.ring
    pop_stop, proj_ptr = pops.stop, pops.proj_ptr
    order, src_start, tgt_offset, weights, delays = proj.order, proj.src_start, proj.tgt_offset, proj.weight, proj.delay
    indptr_offset, indices_offset, indptr, indices = proj.indptr_offset, proj.indices_offset, proj.indptr, proj.indices
    plastic, n_tgt = proj.plastic, proj.n_tgt
    depth = ring.shape[0]
    splits = (proj.row_split, proj.split_offset)
    for s in range(first_spike, min(first_spike + STARTS_AHEAD, n_spikes)):
        i = spike_index[s]
        _prefetch_row_starts(i, pop_stop, proj_ptr, order, src_start, indptr_offset, indptr, splits, n_parts)
    for s in range(first_spike, min(first_spike + PREFETCH_AHEAD, n_spikes)):
        i = spike_index[s]
        _prefetch_rows(i, pop_stop, proj_ptr, order, src_start, indptr_offset, indices_offset, indptr, indices,
                       splits, part, n_parts)  # fmt: skip
    for s in range(first_spike, n_spikes):
        if s + STARTS_AHEAD < n_spikes:
            i = spike_index[s + STARTS_AHEAD]
            _prefetch_row_starts(i, pop_stop, proj_ptr, order, src_start, indptr_offset, indptr, splits, n_parts)
        if s + PREFETCH_AHEAD < n_spikes:
            i = spike_index[s + PREFETCH_AHEAD]
            _prefetch_rows(i, pop_stop, proj_ptr, order, src_start, indptr_offset, indices_offset, indptr, indices,
                           splits, part, n_parts)  # fmt: skip
        i = spike_index[s]
        p = population_of(i, pop_stop)
        for e in range(proj_ptr[p], proj_ptr[p + 1]):
            q = order[e]
            if plastic[q] >= 0:
                continue
            row = i - src_start[q]
            first, last = _share(indptr_offset, indptr, splits, q, row, part, n_parts)
            offset = indices_offset[q]
            target, size, weight, delay = tgt_offset[q], n_tgt[q], weights[q], delays[q]
            # The target channel's slice of this step's state or of a later step's ring row, indexed by
            # unsigned values: a signed index costs a negative-index test per synapse.
            row = (t + delay) % depth
            channel = x[target : target + size] if delay == 1 else ring[row, target : target + size]
            for k in indices[offset + first : offset + last]:
                channel[np.uint32(k)] += weight


@numba.njit(cache=True)
def row_splits(proj, n_parts):
    """Where each part's share of every projection row begins, for a run in ``n_parts`` parts: per row,
    parts 1 .. n_parts - 1, as offsets from the row's start (int32), and each projection's first entry.
    Found once per run by bisection (a row's targets ascend), instead of by every part for every spike."""
    n_proj = proj.indptr_offset.shape[0]
    offsets = np.zeros(n_proj, dtype=np.int64)
    total = 0
    for q in range(n_proj):
        offsets[q] = total
        total += _rows(proj, q) * (n_parts - 1)
    split = np.zeros(total, dtype=np.int32)
    for q in range(n_proj):
        base, offset = proj.indptr_offset[q], proj.indices_offset[q]
        for row in range(_rows(proj, q)):
            first, last = proj.indptr[base + row], proj.indptr[base + row + 1]
            at = first
            for part in range(1, n_parts):
                at = _first_at_least(proj.indices, offset, at, last, part_range(proj.n_tgt[q], part, n_parts)[0])
                split[_split_at(offsets, q, row, n_parts) + part - 1] = at - first
    return split, offsets


@numba.njit(inline="always")
def _rows(proj, q):
    """Projection ``q``'s number of rows (its source population's size)."""
    end = proj.indptr_offset[q + 1] if q + 1 < proj.indptr_offset.shape[0] else proj.indptr.shape[0]
    return end - proj.indptr_offset[q] - 1
