"""Checkpoints without pickle: a spiking model's weights in safetensors, a classical pipeline in skops
(loading only trusted types), everything else in a JSON beside them. A ``.pt``/``.pth`` state dict from
elsewhere is read with ``torch.load(weights_only=True)`` only."""

import json
from pathlib import Path

import numpy as np
import torch

from neuroshell.training.classical import ClassicalModel, load_pipeline, save_classical
from neuroshell.training.errors import TrainingError
from neuroshell.training.saved import model_files
from neuroshell.training.trainer import TrainedModel


def save_model(model, folder: Path) -> Path:
    """Write a TrainedModel or a ClassicalModel into ``folder``; returns the main file's path."""
    if isinstance(model, ClassicalModel):
        meta = {
            "name": model.name,
            "recipe": model.recipe,
            "classes": model.classes,
            "dataset": model.dataset,
            "baseline": model.baseline,
            "validation_balanced_accuracy": model.validation_balanced_accuracy,
        }
        return save_classical(model, folder, meta)
    return save_checkpoint(model, folder)


def saved_models(folder: Path) -> list[dict]:
    """What ``folder`` holds, one dict per model with its file beside its JSON: ``name``, ``kind``,
    ``classes``, ``dataset`` (trained on), ``validation_balanced_accuracy`` (nan when unknown), ``path`` and
    ``saved`` (the file's modification time, local, to the minute). Unreadable JSON files are left out."""
    import datetime
    import math

    found = []
    for name, path in model_files(folder).items():
        try:
            meta = json.loads((Path(folder) / f"{name}.json").read_text(encoding="utf-8"))
            kind, classes, dataset = meta["recipe"]["model"], meta["classes"], meta["dataset"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        validation = meta.get("validation_balanced_accuracy", math.nan)
        history, best = meta.get("history") or [], meta.get("best_epoch") or 0
        if history and 0 < best <= len(history):
            validation = history[best - 1].get("val_balanced_accuracy", math.nan)
        modified = datetime.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        found.append(
            {"name": name, "kind": kind, "classes": classes, "dataset": dataset, "path": str(path),
             "validation_balanced_accuracy": validation, "saved": modified}
        )  # fmt: skip
    return found


def load_model(path: Path):
    """A TrainedModel or ClassicalModel from its file and the JSON beside it."""
    path = Path(path)
    if path.suffix != ".skops":
        return load_checkpoint(path)
    meta_path = path.with_suffix(".json")
    if not meta_path.is_file():
        raise TrainingError(f"{meta_path} is missing: a model needs its JSON recipe beside it")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    model = ClassicalModel(
        meta["name"], meta["recipe"], meta["classes"], load_pipeline(path), meta["dataset"], meta["baseline"]
    )
    model.validation_balanced_accuracy = meta.get("validation_balanced_accuracy", float("nan"))
    model.recipe["checkpoint"] = str(path)
    return model


def save_checkpoint(trained: TrainedModel, folder: Path) -> Path:
    """Write ``<folder>/<name>.safetensors`` and ``<folder>/<name>.json``; returns the weights' path."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{trained.name}.safetensors"
    save_file({key: value.contiguous() for key, value in trained.state.items()}, str(weights))
    meta = {
        "name": trained.name,
        "recipe": trained.recipe,
        "classes": trained.classes,
        "scaler_mean": trained.scaler_mean.tolist(),
        "scaler_std": trained.scaler_std.tolist(),
        "dataset": trained.dataset,
        "history": trained.history,
        "best_epoch": trained.best_epoch,
        "baseline": trained.baseline,
        "completed": trained.completed,
    }
    weights.with_suffix(".json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return weights


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a safetensors file, or from a torch state dict with ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"no such checkpoint: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as error:
            raise TrainingError(f"{path} is not a readable safetensors file ({error})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        # weights_only refuses anything but tensors and plain containers: no code from the file runs.
        reason = str(error).splitlines()[0][:160]
        raise TrainingError(f"refused to load {path}: it holds more than plain tensors ({reason})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise TrainingError(f"{path} is not a state dict of tensors")
    return state


def load_checkpoint(path: Path) -> TrainedModel:
    """A TrainedModel from ``NAME.safetensors`` (or ``.pt``) with its ``NAME.json`` beside it."""
    path = Path(path)
    meta_path = path.with_suffix(".json")
    if not meta_path.is_file():
        raise TrainingError(f"{meta_path} is missing: a checkpoint needs its JSON recipe beside the weights")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    trained = TrainedModel(
        meta["name"],
        meta["recipe"],
        meta["classes"],
        load_state(path),
        np.array(meta["scaler_mean"], np.float32),
        np.array(meta["scaler_std"], np.float32),
        meta["dataset"],
        meta["history"],
        meta["best_epoch"],
        meta["baseline"],
        meta["completed"],
    )
    try:
        trained.module()
    except RuntimeError as error:
        raise TrainingError(f"{path} does not fit its recipe ({str(error).splitlines()[0]})") from None
    return trained
