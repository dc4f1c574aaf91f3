"""Heavy libraries imported where a Ctrl-C cannot break them.

A KeyboardInterrupt in the middle of ``import torch`` (or numpy, numba, scipy, networkx ...) leaves the
library half initialised for the rest of the process: every later use fails ("cannot import name 'nn' from
partially initialized module 'torch'", "CPU dispatcher tracer already initialized", networkx's "Algorithm
already exists in dispatch namespace"). SIGINT only ever interrupts the
main thread, so while ``ShieldedImports`` is installed, the main thread's first import of a library named in
``HEAVY`` runs in a helper thread and the main thread waits for it: a Ctrl-C ends the wait (the verb is
cancelled) while the import completes behind it, and the next use finds the library whole.
"""

import builtins
import contextlib
import importlib
import sys
import threading

HEAVY = frozenset(
    {
        "dask", "distributed", "edfio", "h5py", "libsonata", "matplotlib", "mne", "mne_lsl", "networkx", "numba",
        "numpy", "pandas", "psutil", "pylsl", "pymatreader", "pynwb", "pyriemann", "pyxdf", "safetensors", "scipy",
        "serial", "skops", "sklearn", "snntorch", "threadpoolctl", "torch",
    }
)  # fmt: skip
MAIN_THREAD_ONLY = frozenset({"matplotlib.pyplot"})  # its GUI backends belong to the main thread
WAIT_S = 0.05


class ShieldedImports:
    """``builtins.__import__`` while installed (``install()``/``uninstall()``)."""

    def __init__(self) -> None:
        self.original = builtins.__import__
        self.original_import_module = importlib.import_module
        self.running: dict[str, threading.Event] = {}  # set when that import has ended
        self.failures: dict[str, BaseException] = {}

    def install(self) -> "ShieldedImports":
        builtins.__import__ = self
        # Libraries load submodules lazily through importlib (scipy's ``scipy.signal`` on first attribute
        # access, mne's lazy_loader): those go aside too.
        importlib.import_module = self.import_module
        return self

    def uninstall(self) -> None:
        builtins.__import__ = self.original
        importlib.import_module = self.original_import_module

    def import_module(self, name: str, package: str | None = None):
        """``importlib.import_module``, with a heavy library's first load in the main thread shielded."""
        top = name.partition(".")[0]
        main = threading.current_thread() is threading.main_thread()
        if package is None and top in HEAVY and main and _missing(name, ()) and not _initialising(top):
            self._import_aside(name, ())
        return self.original_import_module(name, package)

    def __call__(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.partition(".")[0] in HEAVY and threading.current_thread() is threading.main_thread():
            wanted = name.partition(".")[0] if name in MAIN_THREAD_ONLY else name
            if _missing(wanted, fromlist) and not _initialising(wanted.partition(".")[0]):
                self._import_aside(wanted, fromlist)
        return self.original(name, globals, locals, fromlist, level)

    def _import_aside(self, name: str, fromlist) -> None:
        done = self.running.get(name)
        if done is None:
            done = self.running[name] = threading.Event()
            thread = threading.Thread(target=self._import, args=(name, tuple(fromlist or ()), done), daemon=True)
            thread.name = f"import {name}"
            thread.start()
        # An Event, not Thread.join: a join that a Ctrl-C interrupts can take the running import for finished
        # (Python 3.11), and the next use would start a second one beside it.
        while not done.wait(WAIT_S):
            pass  # a Ctrl-C raises here, in the main thread, and the import goes on
        self.running.pop(name, None)
        failure = self.failures.pop(name, None)
        if failure is not None:
            raise failure

    def _import(self, name: str, fromlist: tuple, done: threading.Event) -> None:
        try:
            module = self.original_import_module(name)
            for item in fromlist:
                if item != "*" and not hasattr(module, item):
                    # not a submodule either: the main thread's own import then says what is missing
                    with contextlib.suppress(ModuleNotFoundError):
                        self.original_import_module(f"{name}.{item}")
        except BaseException as error:  # handed to the main thread, which raises it as the import would
            self.failures[name] = error
        finally:
            done.set()


def _missing(name: str, fromlist) -> bool:
    module = sys.modules.get(name)
    if module is None or _being_initialised(module):
        return True
    return any(item != "*" and not hasattr(module, item) for item in fromlist or ())


def _initialising(top: str) -> bool:
    """Whether the main thread is itself part way through importing a module of package ``top``: a helper
    thread that needed that module would then wait for the main thread, which waits for it."""
    prefix = top + "."
    modules = list(sys.modules.items())
    return any((key == top or key.startswith(prefix)) and _being_initialised(module) for key, module in modules)


def _being_initialised(module) -> bool:
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))
