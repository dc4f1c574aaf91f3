"""Figures as files a user can open (PNG, SVG or PDF), named from what they show and never overwritten;
also shown in a window when a display exists. matplotlib is imported here, only when plotting."""

import os
import re
import sys
from pathlib import Path

FIGURE_DPI = 100


def new_figure(width_in: float = 12.0, height_in: float = 7.0):
    """A matplotlib Figure not tied to any GUI (so it renders without a display)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=FIGURE_DPI, layout="constrained")


def unique_path(folder: Path, stem: str, fmt: str) -> Path:
    """``folder/stem.fmt``, or ``stem-2.fmt``, ``stem-3.fmt``, ... if taken."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-") or "plot"
    path = folder / f"{stem}.{fmt}"
    number = 2
    while path.exists():
        path = folder / f"{stem}-{number}.{fmt}"
        number += 1
    return path


def save(figure, folder: Path, stem: str, fmt: str = "png") -> Path:
    path = unique_path(folder, stem, fmt)
    figure.savefig(path, dpi=FIGURE_DPI)
    return path


def display_available() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show(path: Path) -> bool:
    """Open the saved image in a window when a display exists; returns whether it did."""
    if not display_available() or path.suffix != ".png":
        return False
    try:
        import matplotlib.image as mpimg
        import matplotlib.pyplot as plt

        image = mpimg.imread(path)
        window = plt.figure(path.name, figsize=(image.shape[1] / FIGURE_DPI, image.shape[0] / FIGURE_DPI))
        window.figimage(image)
        plt.show(block=False)
        plt.pause(0.05)
        return True
    except Exception:  # no usable GUI backend: the file is still there
        return False
