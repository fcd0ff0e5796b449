"""`glassnet predict`: classify images (PNG, JPEG) or .npy arrays with a saved model."""
from __future__ import annotations

import math
import os
import warnings

import numpy as np

from .. import runs
from .. import _npy
from .._files import check_regular
from ..runs import to_features
from ._common import CommandError, Formatter, MissingDependencyError, check_classifier, model_features
from ._common import path as path_arg

IMAGES_HINT = 'pip install "glassnet[images]"'

#: The most pixels (width x height, from the file's header) an image may declare: a larger one is refused
#: before it is decoded (a 30000 x 30000 PNG takes 110 KB on disk and 900 MB in memory).  Pillow's own
#: decompression-bomb check (PIL.Image.MAX_IMAGE_PIXELS, about 89 million) is an error here too.  Raise
#: this one with ``glassnet.cli.predict.MAX_IMAGE_PIXELS = ...``.
MAX_IMAGE_PIXELS = 50_000_000


def add_parser(sub):
    predict = sub.add_parser(
        "predict", formatter_class=Formatter, help="classify images (PNG, JPEG) or .npy arrays",
        description="Classify images of digits or .npy arrays with a saved model; print one line per\n"
                    "input: name, predicted class, its probability (tab-separated).\n\n"
                    "Images are converted to grayscale, resized to the model's input side (28x28) with a\n"
                    "Lanczos filter, inverted when the background is light (mean of the border pixels\n"
                    "> 127; MNIST digits are white on black), and scaled to [0, 1]. An .npy file holds one\n"
                    "image ((28, 28) or (784,)) or a batch ((n, 28, 28) or (n, 784)); integer arrays are\n"
                    "divided by 255, float arrays in [0, 1] are used as they are.")
    predict.add_argument("model", type=path_arg, metavar="MODEL",
                         help="a .glassnet model file (or a run folder holding one)")
    predict.add_argument("files", type=path_arg, metavar="FILE", nargs="+", help="PNG or JPEG images, or .npy arrays")
    predict.set_defaults(handler=cmd_predict, parser=predict)


def _pillow():
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise MissingDependencyError(f"reading images needs Pillow, which is not installed; "
                                     f"install it with: {IMAGES_HINT}") from None
    return Image, ImageOps


def image_side(feature_shape):
    """(height, width) of the images a model takes: (28, 28) for 784 inputs."""
    if len(feature_shape) == 2:
        return tuple(feature_shape)
    width = int(np.prod(feature_shape))
    side = math.isqrt(width)
    if side * side != width:
        raise CommandError(f"the model takes {width} values per sample, which is not a square image; "
                           f"pass .npy arrays of {width} values instead of images")
    return side, side


def read_image(path, feature_shape):
    """One image file -> (1, features) floats in [0, 1], white digit on black as in MNIST."""
    Image, ImageOps = _pillow()
    height, width = image_side(feature_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)     # above Pillow's limit: refused
        try:
            im = Image.open(path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise CommandError(f"cannot read image {path}: it declares more pixels than Pillow's "
                               f"decompression-bomb limit ({' '.join(str(e).split())})") from None
    with im:
        pixels = im.size[0] * im.size[1]
        if pixels > MAX_IMAGE_PIXELS:
            raise CommandError(f"cannot read image {path}: it declares {im.size[0]} x {im.size[1]} = {pixels:,} "
                               f"pixels, more than the limit of {MAX_IMAGE_PIXELS:,} "
                               f"(glassnet.cli.predict.MAX_IMAGE_PIXELS)")
        im.load()
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")                   # transparent background: put it on white paper
            paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(paper, rgba)
        gray = im.convert("L")
    if gray.size != (width, height):
        resample = getattr(Image, "Resampling", Image).LANCZOS
        gray = gray.resize((width, height), resample)
    a = np.asarray(gray, dtype=np.float64)
    border = np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])
    if border.mean() > 127:                             # dark digit on light paper: invert to MNIST's look
        a = 255.0 - a
    return (a / 255.0).reshape((1,) + tuple(feature_shape))


def read_array(path, feature_shape):
    """An .npy file -> (n, features): one image ((28, 28) or (784,)) or a batch."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    a = _npy.read_npy(path, CommandError)            # the header checked before any value is read
    if not isinstance(a, np.ndarray):
        raise CommandError(f"{path}: expected an .npy array")
    if a.ndim == 0:
        raise CommandError(f"{path}: holds a single number, expected an image or a batch of images")
    if a.size == 0:
        raise CommandError(f"{path}: holds no values (shape {a.shape}), expected an image or a batch of images")
    width = int(np.prod(feature_shape))
    # one image: (784,), (28, 28) or the model's own sample shape; anything else is a batch along axis 0
    single = a.size == width and (a.ndim == 1 or (a.ndim == 2 and a.shape[0] > 1) or a.shape == tuple(feature_shape))
    batch = a.reshape((1,) + a.shape) if single else a
    if batch.ndim == 1 or batch[0].size != width:
        side = image_side(feature_shape) if len(feature_shape) == 1 and math.isqrt(width) ** 2 == width else None
        expected = f"({width},)" + (f" or {side}" if side else "")
        raise CommandError(f"{path}: the model expects {width} values per image, shape {expected} or a batch "
                           f"(n, {width}); got an array of shape {a.shape}")
    return to_features(batch, np.float64, path, feature_shape), not single


def cmd_predict(args, out, err):
    model = runs.load_model(args.model)
    model_path = runs.model_path(args.model)
    feature_shape = model_features(model_path, model)
    check_classifier(model_path, model, "predict")
    inputs = []                            # read every file first: a bad one stops the command before any output
    for path in args.files:
        name = os.path.basename(path) if len(set(map(os.path.basename, args.files))) == len(args.files) else path
        if path.lower().endswith(".npy"):
            x, is_batch = read_array(path, feature_shape)
            names = [f"{name}[{i}]" for i in range(len(x))] if is_batch else [name]
        else:
            if os.path.exists(path):
                check_regular(path, CommandError)
            try:
                x = read_image(path, feature_shape)
            except CommandError:
                raise
            except (OSError, ValueError, SyntaxError) as e:     # Pillow: UnidentifiedImageError, truncated files
                if isinstance(e, FileNotFoundError):
                    raise
                raise CommandError(f"cannot read image {path}: {' '.join(str(e).split())}") from None
            names = [name]
        inputs.append((names, x))
    for names, x in inputs:
        probs = model.predict(x)
        binary = probs.shape[1] == 1
        for label, p in zip(names, probs):
            if binary:
                cls = int(p[0] > 0.5)
                prob = float(p[0] if cls else 1 - p[0])
            else:
                cls = int(np.argmax(p))
                prob = float(p[cls])
            print(f"{label}\t{cls}\t{prob:.4f}", file=out)
    return 0
