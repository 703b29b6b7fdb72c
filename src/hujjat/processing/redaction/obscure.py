"""Making a region of a picture unrecognisable: coarse pixelation to at most 4 x 4 flat blocks
over the region enlarged by a margin. Each block keeps only its mean colour, so no detail of a face
inside it survives (unlike a light Gaussian blur, which can be partly inverted)."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

BLOCKS = 4
MARGIN = 0.25


def obscure(rgb: NDArray[np.uint8], x: int, y: int, w: int, h: int, margin: float = MARGIN) -> None:
    """Pixelate the (enlarged) box in place."""
    height, width = rgb.shape[:2]
    mx, my = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - mx), max(0, y - my)
    x1, y1 = min(width, x + w + mx), min(height, y + h + my)
    if x1 <= x0 or y1 <= y0:
        return
    xs = np.linspace(x0, x1, BLOCKS + 1).astype(int)
    ys = np.linspace(y0, y1, BLOCKS + 1).astype(int)
    for top, bottom in itertools.pairwise(ys):
        for left, right in itertools.pairwise(xs):
            if bottom > top and right > left:
                block = rgb[top:bottom, left:right]
                block[...] = block.reshape(-1, block.shape[-1]).mean(axis=0).astype(np.uint8)
