"""glassnet playground: a network you can watch learn in the browser, every number one click away.

    glassnet playground                      # the command: starts the local server and opens the page

    from glassnet.playground import Settings, Session
    s = Session(Settings.from_dict({"dataset": "xor", "hidden": [4]}))
    s.train(100)
    s.state()                                # what the page draws: boundary, neurons, weights, losses
    s.numbers("neuron", layer=1, unit=0)     # the numbers of one neuron in the last step
    export_script(s.settings, s.step)        # the same training as a plain glassnet script

Modules: settings (the declared table of settings), data (the six data sets, the features, the
split), session (the model trained step by step), views (the JSON the page draws), numbers (one
neuron's or edge's numbers from the step's trace), export (the script), server (the HTTP server).
`serve` and `export_script` are loaded on first use, so importing the package starts no server code.
"""
from __future__ import annotations

from .session import Session
from .settings import SETTINGS, Settings, options

__all__ = ["Settings", "Session", "SETTINGS", "options", "serve", "export_script"]


def __getattr__(name):
    """serve (playground.server) and export_script (playground.export), imported when first asked for."""
    if name == "serve":
        from .server import serve
        return serve
    if name == "export_script":
        from .export import export_script
        return export_script
    raise AttributeError(f"module 'glassnet.playground' has no attribute {name!r}")
