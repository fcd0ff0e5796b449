"""The gallery of examples/: sections in the order of a course, the quick mode, and the figures.

examples/ stays one flat folder (the notes, the tests and the README name its scripts there).  When Sphinx
starts, stage() copies each script into docs/_gallery/<section>/, one folder per section with its
README.txt, which is how sphinx-gallery makes sections; the pages are generated in docs/auto_examples/.

Each script runs once, in its quick mode (reset_argv gives it --quick), with --output pointing at
docs/_gallery_figures/<script>/ (every script takes one); figure_scraper() hands the PNGs the script saved there to
the gallery, which shows them on the page.  The scripts draw with matplotlib's Figure API (no pyplot), so
sphinx-gallery's own matplotlib scraper would find nothing.
"""
import pathlib
import shutil

DOCS = pathlib.Path(__file__).resolve().parent
EXAMPLES = DOCS.parent / "examples"
STAGE = DOCS / "_gallery"
FIGURES = DOCS / "_gallery_figures"

# (folder, title, text, scripts): the order of a course, from single functions to convolutional networks
SECTIONS = [
    ("01_functions", "Functions",
     "Single functions: the activations, their derivatives, and the losses, each checked numerically.",
     ["note001_activations_and_losses.py"]),
    ("02_forward_pass", "The forward pass",
     "A layer is a matrix product: inputs times weights, then an activation.",
     ["note004_forward_pass.py"]),
    ("03_losses_and_gradients", "Losses and gradients",
     "A network's loss, and its gradient taken numerically and by backpropagation.",
     ["note000_001_three_layer_network.py"]),
    ("04_backprop_by_hand", "Backpropagation by hand",
     "One forward and one backward call at a time, every delta printed.",
     ["note002_backprop_by_hand.py"]),
    ("05_training_loops", "Training loops",
     "A training loop written out: batches, gradients, updates, accuracy per epoch.",
     ["note003_two_layer_mnist_by_hand.py"]),
    ("06_keras_models", "Keras-style models",
     "The same networks through Sequential, compile and fit, as Keras scripts write them.",
     ["note003_keras_mnist.py", "keras_mnist.py"]),
    ("07_convnets", "Convolutional networks",
     "Convolution and pooling layers: a textbook ConvNet trained by hand, and a Keras-style one.",
     ["convnet_by_hand.py", "keras_convnet.py"]),
]

GALLERY_HEADER = """Gallery of examples
===================

Every script of ``examples/``, run in its quick mode when this site was built: its text, its code, what
it printed and the figures it drew.  Each page offers the script and a Jupyter notebook to download.  The
sections follow a course, from single functions to convolutional networks.  Run a script in full from the
repository root, e.g. ``python examples/convnet_by_hand.py``; each script's page says what its full run does.

The full runs (no ``--quick``), timed on the 2-core CI machine with other jobs running (so at most):

=========================================  ==========  ===================================================
script                                     full run    what the full run does
=========================================  ==========  ===================================================
``note004_forward_pass.py``                3 s         the same as quick: every step takes milliseconds
``note001_activations_and_losses.py``      3 s         the XOR networks train 500 epochs instead of 200
``note000_001_three_layer_network.py``     12 s        the numerical gradient of all 784 rows of W1
``note002_backprop_by_hand.py``            6 s         the note's 5,001 epochs instead of 301
``note003_two_layer_mnist_by_hand.py``     135 s       10,000 iterations (125 epochs): test accuracy 0.946
``note003_keras_mnist.py``                 4 s         10 epochs instead of 1
``keras_mnist.py``                         12 s        10 epochs instead of 1
``convnet_by_hand.py``                     82 s        5 epochs on all 8,000 bundled training digits
``keras_convnet.py``                       116 s       15 epochs on all 8,000 bundled training digits
=========================================  ==========  ===================================================
"""

# the notebooks' first cell: main() reads the command line, which a notebook does not have; the figures go to
# a temporary folder (never the notebook's own), and the last cell shows them
NOTEBOOK_FIRST_CELL = """\
# main() at the end reads its options from the command line, as a script does; a notebook has none, so
# they go in this list: add e.g. "--quick" for a fast run.  (CI runs every notebook with GLASSNET_QUICK=1
# in the environment, which adds --quick.)  The figures go to a temporary folder; the last cell shows them.
import os
import sys
import tempfile

NOTEBOOK_FIGURES = tempfile.mkdtemp(prefix="glassnet-figures-")
sys.argv = [sys.argv[0], "--output", NOTEBOOK_FIGURES] + (["--quick"] if os.environ.get("GLASSNET_QUICK") else [])"""

NOTEBOOK_LAST_CELL = """\
# the figures main() saved
import pathlib

from IPython.display import Image, display

for png in sorted(pathlib.Path(NOTEBOOK_FIGURES).glob("*.png")):
    display(Image(filename=str(png)))"""


def scripts():
    return [name for _, _, _, names in SECTIONS for name in names]


def stage():
    """Copy examples/ into docs/_gallery/<section>/ (only what changed, so sphinx-gallery's cache holds)."""
    listed = set(scripts())
    present = {path.name for path in EXAMPLES.glob("*.py")}
    if listed != present:
        raise RuntimeError(f"docs/gallery.py SECTIONS must list every script of examples/: "
                           f"missing {sorted(present - listed)}, gone {sorted(listed - present)}")
    for name in listed:
        if '"--output"' not in (EXAMPLES / name).read_text(encoding="utf-8"):
            raise RuntimeError(f"examples/{name} must take --output DIR: the gallery and the notebooks pass it")
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir()
    (STAGE / "README.txt").write_text(GALLERY_HEADER, encoding="utf-8")
    for folder, title, text, names in SECTIONS:
        section = STAGE / folder
        section.mkdir()
        (section / "README.txt").write_text(f"{title}\n{'-' * len(title)}\n\n{text}\n", encoding="utf-8")
        for name in names:
            shutil.copy2(EXAMPLES / name, section / name)


def reset_argv(gallery_conf, script_vars):
    """The command line each script runs with in the gallery: its quick mode, figures into FIGURES."""
    src = pathlib.Path(script_vars["src_file"])
    folder = FIGURES / src.stem
    if folder.exists():
        shutil.rmtree(folder)
    return ["--quick", "--output", str(folder)]


def figure_scraper(block, block_vars, gallery_conf):
    """The PNGs the script saved into FIGURES/<script>/ since the last block, copied to the gallery's images."""
    from sphinx_gallery.scrapers import figure_rst

    folder = FIGURES / pathlib.Path(block_vars["src_file"]).stem
    seen = block_vars.setdefault("glassnet_figures_seen", set())
    new = [path for path in sorted(folder.glob("*.png")) if path.name not in seen] if folder.is_dir() else []
    images = []
    for path, image_path in zip(new, block_vars["image_path_iterator"]):
        shutil.copyfile(path, image_path)
        seen.add(path.name)
        images.append(image_path)
    return figure_rst(images, gallery_conf["src_dir"])
