"""docs/convolution.md ("Convolution by hand") prints exactly what it shows.

Each ```python block of the page runs in order in one namespace; what it prints must equal the
```text block that follows it, character for character, so every number on the page comes out of
glassnet.convolution (im2col, col2im, conv, pool) and the pooling layers.  The page's worked numbers
are also checked here against a convolution written with plain loops.
"""
import contextlib
import io
import pathlib
import re

import numpy as np
import pytest

from glassnet.convolution import col2im, conv, im2col, pool

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "convolution.md"
PAIR = re.compile(r"```python\n(?P<code>.*?)```(?:\s*\n```text\n(?P<shown>.*?)```)?", flags=re.S)


def blocks():
    return [(m.group("code"), m.group("shown")) for m in PAIR.finditer(PAGE.read_text(encoding="utf-8"))]


def test_every_block_prints_what_the_page_shows(isolated_random_state, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    pairs = blocks()
    assert len(pairs) >= 10
    shown_count = 0
    for i, (code, shown) in enumerate(pairs):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"docs/convolution.md block {i}", "exec"), namespace)
        if shown is None:
            assert out.getvalue() == "", f"block {i} prints but the page shows no output"
        else:
            shown_count += 1
            assert out.getvalue() == shown, f"block {i}:\n{out.getvalue()}\n!=\n{shown}"
    assert shown_count >= 9


def loop_conv(x, w, b, stride=1):
    """A 2-D cross-correlation of one single-channel image, with two loops (the textbook's picture)."""
    k = w.shape[0]
    n = (x.shape[0] - k) // stride + 1
    out = np.empty((n, n))
    for r in range(n):
        for c in range(n):
            out[r, c] = np.sum(x[r * stride:r * stride + k, c * stride:c * stride + k] * w) + b
    return out


def test_the_pages_numbers_agree_with_loops():
    ns = {}
    for code, _ in blocks()[:1]:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, ns)
    x, W, b = ns["x"], ns["W"], ns["b"]
    img, w = x[0, :, :, 0], W[:, :, 0, 0]
    np.testing.assert_array_equal(conv(x, W, b)[0, :, :, 0], loop_conv(img, w, b[0]))
    assert loop_conv(img, w, b[0]).tolist() == [[2.5, 8.5], [-3.5, 0.5]]
    # padding "same": zeros around, the same loops
    padded = np.pad(img, 1)
    np.testing.assert_array_equal(conv(x, W, b, padding="same")[0, :, :, 0], loop_conv(padded, w, b[0]))
    # backward by loops: dW[i, j] = sum over positions of x[r + i, c + j] * dz[r, c]; dx scatters w * dz
    dz = np.array([[1.0, 2.0], [-1.0, 1.0]])
    dW = np.zeros((3, 3))
    dx = np.zeros((4, 4))
    for r in range(2):
        for c in range(2):
            dW += img[r:r + 3, c:c + 3] * dz[r, c]
            dx[r:r + 3, c:c + 3] += w * dz[r, c]
    cols = im2col(x, (3, 3))
    np.testing.assert_array_equal((cols.T @ dz.reshape(4, 1)).reshape(3, 3), dW)
    np.testing.assert_array_equal(col2im(dz.reshape(4, 1) @ w.reshape(1, 9), x.shape, (3, 3))[0, :, :, 0], dx)
    # pooling by loops
    blocks_2x2 = img.reshape(2, 2, 2, 2).swapaxes(1, 2)
    np.testing.assert_array_equal(pool(x, 2)[0, :, :, 0], blocks_2x2.max(axis=(2, 3)))


@pytest.mark.parametrize("page", ["layers.md", "explain.md", "figures.md"])
def test_the_page_is_linked_from_the_docs(page):
    assert "convolution.md" in (PAGE.parent / page).read_text(encoding="utf-8")
