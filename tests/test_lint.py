"""ruff keeps the code base clean and formatted (configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_and_format():
    check = subprocess.run([sys.executable, "-m", "ruff", "check", str(ROOT)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    form = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", str(ROOT)], capture_output=True, text=True
    )
    assert form.returncode == 0, form.stdout + form.stderr


# The packages in the order they may import each other: each imports only those before it (as MNE's
# import-nesting test pins its own), so an engine is usable as a plain library without the shell.
LAYERS = (
    "common", "storage", "devices", "neuron", "formats", "filters", "training", "decoding", "sweeps", "view",
    "sessions", "cli",
)  # fmt: skip


def _imports(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return imported | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_each_package_imports_only_the_layers_below_it():
    """docs/architecture.md draws this order; an import against it is named with its file."""
    wrong = []
    for rank, package in enumerate(LAYERS):
        for path in (ROOT / package).rglob("*.py"):
            for module in _imports(path):
                parts = module.split(".")
                if parts[0] == "neuroshell" and len(parts) > 1 and parts[1] in LAYERS[rank + 1 :]:
                    wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, wrong
    assert set(LAYERS) == {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"}


def test_the_layers_keep_their_places():
    """Verbs never open HDF5 themselves (the session's workspace does: one door to files); no source file
    outside tests grows past ~400 lines."""
    import ast

    for path in (ROOT / "sessions" / "verbs").glob("*.py"):
        imported = _imports(path)
        assert "h5py" not in imported and "neuroshell.storage.files" not in imported, path
        tree = ast.parse(path.read_text())
        handles = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "handle"]
        assert not handles, f"{path.name}:{handles[0].lineno} reaches for a raw file handle"
    long = {
        str(path.relative_to(ROOT))
        for path in ROOT.glob("[!.]*/**/*.py")
        if not {"tests", "build"} & set(path.relative_to(ROOT).parts) and len(path.read_text().splitlines()) > 420
    }
    assert not long, long
