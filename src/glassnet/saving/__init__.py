"""The model file format: one `.glassnet` file holds a whole model.

    model.save("run/model.glassnet")           # architecture, weights, compile settings, optimizer state
    model = gn.load_model("run/model.glassnet")   # compiled again, ready to predict or to keep training

    model.save_weights("run/model.weights.npz")   # weights only: a plain NumPy .npz
    model.load_weights("run/model.weights.npz")

A `.glassnet` file is a zip archive of four members (docs/model-format.md):

    manifest.json   format name and version, glassnet version, SHA-256 and size of every other member
    config.json     format name and version, glassnet version, the architecture (model.get_config()),
                    the compile settings (loss, metrics, optimizer), the list of weights (name, shape,
                    dtype), the optimizer's state layout and the random state of Dropout layers
    weights.npz     every array of get_weights(), in order, named "dense/W", "dense/b", ...
    optimizer.npz   the optimizer's slot arrays, "0/m", "0/v", ... (when it has taken a step)

Files are written to a temporary name in the same directory, flushed to disk
and renamed (or, with overwrite=False, linked: never over an existing file), so
a crash never leaves half a file where a good one was.
Loading never unpickles: the text is JSON and the arrays are read from their
.npy headers and raw bytes (object arrays refused); every member's SHA-256 is
checked first, and every read is bounded (docs/model-format.md, "Limits").
Classes named in a file are found in glassnet's registry (glassnet._registry) or
in custom_objects, never imported by name.

The modules:
    format            names, version, ModelFileError, paths, finding a class by name
    archive           the zip: deterministic, atomic writing (exclusive with overwrite=False); bounded,
                      checksummed reading
    temporary         the temporary files' names (pid and host): a save removes those of dead processes
    arrays            the .npz members, written in order and read without pickle
    weights           save_weights / load_weights (weights alone)
    compile_settings  loss, metrics, optimizer and optimizer state
    model_file        save_model / load_model / read_config
    keras_file        Keras 3 `.keras` files (save_model / load_model route a `.keras` path here; needs h5py)
    keras_graph       a graph model's config (several inputs, Keras's layer order)
    keras_nested      models used as layers, the Sequential reader, the nesting limit
    keras_weights     Keras 3's HDF5 weights layout (`.weights.h5`, and model.weights.h5 inside `.keras`)
    keras_compile     a `.keras` file's compile_config, both ways (KerasCompileWarning when it does not map)
"""
from .format import FORMAT, FORMAT_VERSION, SUFFIX, WEIGHTS_SUFFIX, ModelFileError
from .model_file import load_model, read_config, save_model
from .weights import load_weights, save_weights, weight_names

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "read_config", "weight_names",
           "ModelFileError", "FORMAT", "FORMAT_VERSION", "SUFFIX", "WEIGHTS_SUFFIX"]
