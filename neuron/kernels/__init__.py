"""The numba kernels, split by role: ``step`` (the loop over time steps), ``membrane`` (neuron updates),
``propagate`` (spikes through projections), ``collect`` (spike gathering and regrouping), ``plasticity``,
``drive`` (Poisson inputs), ``vexp`` (a vectorised exponential) and ``threaded`` (the step's parallel part).

numba keys a cached function on its own file alone, so a kernel compiled against a callee in another file
would be loaded stale after that file changes (and one linking parallel code then crashes the process).
The kernels' cache therefore lives in a folder named after a hash of all their sources: any change to any
of them compiles them all afresh. The parallel kernels (``threaded``) are not cached apart from the step.
That folder is under ``NUMBA_CACHE_DIR`` when the user set one, else under the user's cache folder; a cache
locator of neuroshell's own points only these kernels (and ``neuron/connectivity.py``'s builders) there, so
numba's cache for any other code in the process stays where its configuration puts it.
"""

import hashlib
import os
from pathlib import Path

import numba
from numba.core import caching

_HERE = Path(__file__).resolve().parent
_CACHED_FILES = {*_HERE.glob("*.py"), _HERE.parent / "connectivity.py"}


def _cache_folder() -> str:
    sources = sorted([*_HERE.glob("*.py"), _HERE.parent / "layout.py"])
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "neuroshell" / "numba"
    return str(Path(numba.config.CACHE_DIR or default) / digest)


CACHE_FOLDER = _cache_folder()


class _KernelCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """numba's locator for neuroshell's own kernels: their cache files go to ``CACHE_FOLDER``."""

    def __init__(self, py_func, py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(CACHE_FOLDER, self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file: str):
        if Path(py_file).resolve() not in _CACHED_FILES:
            return None  # another module's function: numba's own locators decide
        return super().from_function(py_func, py_file)


if _KernelCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, _KernelCacheLocator)

from neuroshell.neuron.kernels.collect import group_by_population  # noqa: E402 (after the locator is in)
from neuroshell.neuron.kernels.step import run_chunk, seed  # noqa: E402

__all__ = ["group_by_population", "run_chunk", "seed"]
