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


def test_the_layers_keep_their_places():
    """Verbs never open HDF5 themselves (storage's readers and the session's workspace do); engines never
    import the shell or the sessions; no source file outside tests grows past ~400 lines."""
    import ast

    for path in (ROOT / "sessions" / "verbs").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert "h5py" not in imported, path
        handles = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "handle"]
        assert not handles, f"{path.name}:{handles[0].lineno} reaches for a raw file handle"
    for engine in ("neuron", "devices", "storage", "training", "formats", "sweeps", "filters", "decoding", "common"):
        for path in (ROOT / engine).rglob("*.py"):
            text = path.read_text()
            assert "neuroshell.sessions" not in text and "neuroshell.cli" not in text, path
    long = {
        str(path.relative_to(ROOT))
        for path in ROOT.glob("[!.]*/**/*.py")
        if not {"tests", "build"} & set(path.relative_to(ROOT).parts) and len(path.read_text().splitlines()) > 420
    }
    assert not long, long
