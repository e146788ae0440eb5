"""The landscape panel over the run, as an animated GIF: one frame every k steps.

Frames are drawn by a fresh, offscreen copy of the Landscape panel, so the GIF looks exactly like the
panel (heatmap, contours, path, −∇f arrow, legend, title):

- a landscape task replays nothing: frame j shows the recorded path up to step j (the history keeps
  the point each step started from) and the point reached there;
- a dataset task has no path; its frames show the model's decision map as it learned. The run is
  replayed from step 0 with the session's config (same seeds, so the same numbers) and drawn every k
  steps. If the settings were changed during the run the replay cannot match it; `write_gif` then
  still writes the replay and `replay_mismatch` tells so.

Rendering happens on the GUI thread (Qt paints widgets nowhere else); `progress(done, total)` is
called after each frame so a caller can keep the window responsive and cancel (return False).
Frames are written with Pillow: each one quantised to its own 256-colour palette, no dithering.
"""
from __future__ import annotations

import io as _io
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PySide6 import QtGui, QtWidgets

from ..core.io import atomic_write_bytes
from ..core.session import Session
from . import exporters
from .docks.base import Panel, SessionHolder

MAX_REPLAY_STEPS = 5_000_000  # a dataset GIF replays the run: ~20-60 s at the compiled engine's speed
FRAME_SIZE = (640, 600)   # logical pixels of a frame
FRAME_SCALE = 1.0         # GIFs are for screens and slides: 1× keeps files small
MAX_FRAMES = 100          # the default k aims at about this many frames
FPS = 12
HOLD_LAST = 1.5           # seconds the last frame stays before the loop restarts
REPLAY_CHUNK = 2000       # replayed steps between two looks at the event queue


def default_every(total_steps: int, max_frames: int = MAX_FRAMES) -> int:
    """Steps per frame so that a run of `total_steps` makes at most about `max_frames` frames."""
    return max(1, math.ceil(total_steps / max(1, max_frames - 1)))


def frame_steps(total_steps: int, every: int) -> list[int]:
    """The steps drawn: 0, k, 2k, … and always the last step (`total_steps`)."""
    if every < 1:
        raise ValueError(f"steps per frame must be >= 1, got {every}")
    steps = list(range(0, total_steps, every))
    return steps + [total_steps] if total_steps > 0 or not steps else steps


# ----------------------------------------------------------------------------- landscape frames
class _Cut:
    """A history seen only up to row `n` (what the landscape panel reads of it: `get`, and for
    its loss curve `get_steps`)."""

    def __init__(self, history, n: int):
        self._h, self._n = history, n

    def get(self, name: str) -> np.ndarray:
        return self._h.get(name)[: self._n]

    def get_steps(self) -> np.ndarray:
        return self._h.get_steps()[: self._n]


class _AtStep:
    """The session as it stood at an earlier step: the path cut there, θ the point reached."""

    def __init__(self, session: Session, rows: int, theta: np.ndarray, step: int):
        self._s = session
        self.history = _Cut(session.history, rows)
        self.theta, self.step, self.halted = theta, step, None

    def __getattr__(self, name: str):
        return getattr(self._s, name)


def _landscape_frames(panel, session: Session, steps: list[int]) -> Iterator[None]:
    """Point the panel at each earlier state in turn (the panel's holder is replaced by the caller)."""
    h = session.history
    rec_steps = np.append(h.get_steps(), session.step)  # the point before step i; θ after the last
    xs = np.append(h.get("x"), session.theta[0])
    ys = np.append(h.get("y"), session.theta[1])
    for target in steps:
        i = int(np.searchsorted(rec_steps, target, side="right")) - 1  # last point at or before it
        i = max(i, 0)
        panel.holder.session = _AtStep(session, i, np.array([xs[i], ys[i]]), int(rec_steps[i]))
        panel.refresh()
        yield


def _dataset_frames(panel, session: Session, steps: list[int], mismatch: list[str]) -> Iterator[None]:
    """Replay the run from step 0 and stop at each frame's step."""
    replay = Session(session.run_config)  # the step-0 settings and the timeline: the run that happened
    panel.holder.session = replay
    for target in steps:
        while replay.step < target and not replay.halted:
            replay.run(min(REPLAY_CHUNK, target - replay.step))
            QtWidgets.QApplication.processEvents()  # a long stretch between frames keeps the window alive
        panel.reset()  # the decision map is throttled in refresh(); reset draws it now
        yield
    mismatch += _compare(session, replay)


def _compare(session: Session, replay: Session) -> list[str]:
    """Why the replay differs from the recorded run ([] when every recorded loss is reproduced)."""
    a_steps, b_steps = session.history.get_steps(), replay.history.get_steps()
    common, ia, ib = np.intersect1d(a_steps, b_steps, return_indices=True)
    if len(common) and not np.array_equal(session.history.get("loss")[ia], replay.history.get("loss")[ib]):
        return ["the run's settings changed while it trained, so the GIF shows a replay of its current "
                "settings from step 0, not exactly what was on screen"]
    return []


# ----------------------------------------------------------------------------- writing
def _rgb(image: QtGui.QImage):
    """A QImage as a Pillow RGB image."""
    from PIL import Image

    img = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    return Image.frombuffer("RGB", (img.width(), img.height()), bytes(img.constBits()), "raw", "RGB",
                            img.bytesPerLine(), 1).copy()


def _palette(image: QtGui.QImage):
    """A 256-colour palette (as a Pillow "P" image) fitted to one frame, shared by all frames: then
    consecutive frames differ only where the picture changed, and the GIF stores just that."""
    from PIL import Image

    return _rgb(image).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def _quantize(image: QtGui.QImage, palette):
    from PIL import Image

    return _rgb(image).quantize(palette=palette, dither=Image.Dither.NONE)


def gif_bytes(frames: list, fps: float = FPS) -> bytes:
    """An endlessly looping GIF of Pillow frames; the last one held for HOLD_LAST seconds."""
    frame_ms = max(20, round(1000 / fps))
    durations = [frame_ms] * len(frames)
    durations[-1] = max(frame_ms, round(1000 * HOLD_LAST))
    buf = _io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   disposal=1)
    return buf.getvalue()


def replay_refusal(session: Session) -> str | None:
    """Why no GIF is made of `session` (None: it can be): a dataset's frames come from a replay of
    the run, and a file claiming 10^9 steps replayed them all."""
    if session.problem.has_data and session.step > MAX_REPLAY_STEPS:
        return (f"no GIF: it would replay all {session.step:,} steps of the run, more than the "
                f"{MAX_REPLAY_STEPS:,} a GIF export replays")
    return None


def write_gif(like: Panel, holder: SessionHolder, path: str | Path, every: int | None = None,
              size: tuple[int, int] = FRAME_SIZE, scale: float = FRAME_SCALE, fps: float = FPS,
              progress: Callable[[int, int], bool] | None = None,
              notes: list[str] | None = None) -> Path | None:
    """Write the animated GIF of landscape panel `like` on `holder.session`; None if cancelled.

    every: steps per frame (default: about MAX_FRAMES frames). The frame count is
    len(frame_steps(session.step, every)). `notes` collects remarks for the user (a replay that
    does not match the run). Nothing is written when cancelled.
    """
    session = holder.session
    refused = replay_refusal(session)
    if refused:
        if notes is not None:
            notes.append(refused)
        return None
    every = every or default_every(session.step)
    steps = frame_steps(session.step, every)
    framed = exporters.framed_panel(like, _Holder(session))
    panel = framed.panel
    pixels = (round(size[0] * scale), round(size[1] * scale))
    mismatch: list[str] = []
    frames = []
    with exporters.laid_out(framed, size):
        # The palette comes from the end of the run, which holds every colour the frames use (the
        # whole path, the most saturated decision map).
        palette = _palette(exporters.render_image(framed, pixels))
        walk = (_landscape_frames(panel, session, steps) if session.problem.traces_path
                else _dataset_frames(panel, session, steps, mismatch))
        for n, _ in enumerate(walk, 1):
            exporters.settle(1)
            frames.append(_quantize(exporters.render_image(framed, pixels), palette))
            if progress is not None and progress(n, len(steps)) is False:
                return None
    if notes is not None:
        notes += mismatch
    path = Path(path)
    atomic_write_bytes(path, gif_bytes(frames, fps))
    return path


class _Holder(SessionHolder):
    """The frames' own holder: the panel reads earlier states of the run, never the live session."""
