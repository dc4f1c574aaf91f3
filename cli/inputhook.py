"""Keeps plot windows responsive while the prompt waits for a key.

prompt-toolkit calls the hook whenever it is idle; while matplotlib figures are open, the hook runs their
GUI event loop in short slices until input arrives, so windows redraw, resize and close between commands.
"""

import sys

from prompt_toolkit.eventloop.inputhook import InputHookContext

GUI_SLICE_S = 0.05


def figures_inputhook(context: InputHookContext) -> None:
    # Only a plot verb imports pyplot; looking it up here keeps the prompt's start-up free of matplotlib.
    """While the prompt waits, let open plot windows run their GUI loop in short slices."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    while pyplot is not None and pyplot.get_fignums() and not context.input_is_ready():
        pyplot.figure(pyplot.get_fignums()[-1]).canvas.start_event_loop(GUI_SLICE_S)
