"""Models saved in a folder, found without loading them (so without torch's import, for the prompt's
completion): a model is ``NAME.json`` beside its file."""

from pathlib import Path

# Spiking weights, a skops pipeline, a torch state dict; the first that exists is the model's file.
CHECKPOINT_SUFFIXES = (".safetensors", ".skops", ".pt", ".pth")


def model_file(folder: Path, name: str) -> Path | None:
    """``folder/NAME`` with the first checkpoint suffix that exists, or None."""
    return next((p for s in CHECKPOINT_SUFFIXES if (p := Path(folder) / f"{name}{s}").is_file()), None)


def model_files(folder: Path) -> dict[str, Path]:
    """name -> file of every model in ``folder`` whose JSON has its file beside it, in name order."""
    found = {meta.stem: model_file(folder, meta.stem) for meta in sorted(Path(folder).glob("*.json"))}
    return {name: path for name, path in found.items() if path is not None}
