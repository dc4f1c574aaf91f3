"""The numba kernels, split by role: ``step`` (the loop over time steps), ``membrane`` (neuron updates),
``propagate`` (spikes through projections), ``collect`` (spike gathering and regrouping), ``plasticity``,
``drive`` (Poisson inputs), ``vexp`` (a vectorised exponential) and ``threaded`` (the step's parallel part).

numba keys a cached function on its own file alone, so a kernel compiled against a callee in another file
would be loaded stale after that file changes (and one linking parallel code then crashes the process).
The kernels' cache therefore lives in a folder named after a hash of all their sources: any change to any
of them compiles them all afresh. The parallel kernels (``threaded``) are not cached apart from the step.
"""

import hashlib
import os
from pathlib import Path

import numba


def _cache_folder() -> str:
    here = Path(__file__).parent
    sources = sorted([*here.glob("*.py"), here.parent / "layout.py"])
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "neuroshell" / "numba"
    return str(Path(numba.config.CACHE_DIR or default) / digest)


numba.config.CACHE_DIR = _cache_folder()

from neuroshell.neuron.kernels.collect import group_by_population  # noqa: E402 (after the cache folder is set)
from neuroshell.neuron.kernels.step import run_chunk, seed  # noqa: E402

__all__ = ["group_by_population", "run_chunk", "seed"]
