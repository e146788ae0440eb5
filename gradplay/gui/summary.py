"""A one-page picture of a whole session: every panel, the key numbers and the config.

The page is an offscreen widget (a text column beside a grid of fresh panel copies) painted at a
device pixel ratio, like the single-panel exports, so text stays sharp at any scale.
"""
from __future__ import annotations

import html
import math
from datetime import date
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from .. import __version__
from ..core import config as config_mod
from ..core.io import atomic_write_bytes
from ..core.problem import LandscapeProblem
from ..core.problem import of_config as problem_of
from . import exporters
from .number_format import fmt
from .theme import theme

PAGE_SIZE = (1600, 1000)   # logical pixels
PAGE_SCALE = 1.5           # 2400 × 1500 pixels
SIDE_WIDTH = 380


def key_numbers(session) -> list[tuple[str, str]]:
    """(label, value) rows that sum up where the run stands, 3 significant digits."""
    s, f = session, fmt
    rows = [("step", str(s.step))]
    lr = s.history.last("lr")
    if isinstance(s.problem, LandscapeProblem):
        land = s.problem.landscape
        x, y = (float(v) for v in s.theta)
        g = land.gradient(s.theta)
        rows += [("point (x, y)", f"({f(x)}, {f(y)})"), ("f(x, y)", f(land.value(s.theta))),
                 ("|∇f|", f(np.hypot(*g)))]
        if land.minima:
            m = np.asarray(land.minima, dtype=float).reshape(-1, 2)
            d = np.hypot(m[:, 0] - x, m[:, 1] - y)
            k = int(d.argmin())
            rows.append(("nearest minimum", f"({f(m[k, 0])}, {f(m[k, 1])}), {f(d[k])} away"))
    else:
        rows += [("epoch", f(s.epoch)), ("parameters", str(s.theta.size)),
                 ("batch size", str(s.batch_size) + (" (full)" if s.batch_size == s.n_train else ""))]
        last = s.history.last("loss")
        if last is not None:
            rows.append(("last batch loss", f(last)))
        ev = s.evaluate(record=False)  # at the current parameters, whatever was recorded
        rows += [("train loss", f(ev["train_loss"])), ("test loss", f(ev["test_loss"]))]
        for split in ("train", "test"):
            acc = ev.get(f"{split}_acc", math.nan)
            if not math.isnan(acc):
                rows.append((f"{split} accuracy", f"{100 * acc:.1f}%"))
        if len(s.history):
            norms = np.atleast_1d(s.history.last("grad_norm"))
            rows.append(("‖∂L/∂W‖ per layer", " · ".join(f(v) for v in norms)))
    if lr is not None:
        rows.append(("learning rate now", f(lr)))
    if s.halted:
        rows.append(("halted", s.halted))
    return rows


def config_text(cfg: dict) -> str:
    """The resolved config as TOML, without the [meta] texts (they head the page) and, on a
    landscape, without the sections a landscape does not use (network, loss)."""
    skip = ("[meta]",) + (("[network]", "[loss]") if not problem_of(cfg).has_data else ())
    sections = config_mod.dumps(cfg).split("\n\n")
    return "\n\n".join(part for part in sections if not part.startswith(skip)).strip()


class SummaryPage(QtWidgets.QWidget):
    """Title, description, key numbers and config on the left; the panels in a grid on the right."""

    def __init__(self, window, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        holder = window.controller
        s = holder.session
        th = theme()
        meta = s.config.get("meta") or {}
        self.setAutoFillBackground(True)

        side = QtWidgets.QVBoxLayout()
        side.setSpacing(8)
        title = QtWidgets.QLabel(exporters.run_title(s))
        title.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        title.setWordWrap(True)
        title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        side.addWidget(title)
        if meta.get("description"):
            side.addWidget(self._text(html.escape(meta["description"]), "font-size: 9pt;"))
        rows = "".join(f"<tr><td style='padding-right:10px'>{html.escape(k)}</td>"
                       f"<td><b>{html.escape(v)}</b></td></tr>" for k, v in key_numbers(s))
        side.addWidget(self._text(f"<table cellspacing='2'>{rows}</table>", "font-size: 10pt;"))
        head = QtWidgets.QLabel("Config")
        head.setStyleSheet("font-size: 11pt; font-weight: bold; margin-top: 6px;")
        side.addWidget(head)
        cfg = QtWidgets.QLabel(config_text(s.run_config))  # step-0 settings and the edits
        cfg.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(8.5)
        cfg.setFont(font)
        cfg.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        side.addWidget(cfg, 1)
        side.addWidget(self._text(f"gradplay {__version__} · {date.today().isoformat()}",
                                  f"color: {th.muted}; font-size: 8pt;"))
        side_box = QtWidgets.QWidget()
        side_box.setLayout(side)
        side_box.setFixedWidth(SIDE_WIDTH)

        grid = QtWidgets.QGridLayout()
        grid.setSpacing(10)
        # The page names the run once: each panel's header has its own title only.
        self.framed = [exporters.framed_panel(p, holder, subtitle=False)
                       for p in exporters.exportable_panels(window).values()]
        n = len(self.framed)
        for i, f in enumerate(self.framed):
            if n == 3:  # a landscape run: the (square) map tall on the left, the curves stacked right
                grid.addWidget(f, *((0, 0, 2, 1) if i == 0 else (i - 1, 1, 1, 1)))
            else:
                grid.addWidget(f, i // 2, i % 2)
        grid.setColumnStretch(0, 3 if n == 3 else 1)
        grid.setColumnStretch(1, 2 if n == 3 else 1)

        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(16)
        lay.addWidget(side_box)
        lay.addLayout(grid, 1)

    @staticmethod
    def _text(text: str, css: str = "") -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(text)
        label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        label.setWordWrap(True)
        label.setStyleSheet(css)
        return label


def render_summary(window, size: tuple[int, int] = PAGE_SIZE, scale: float = PAGE_SCALE) -> QtGui.QImage:
    """The summary page of the window's session as an image of size × scale pixels."""
    page = SummaryPage(window)
    with exporters.offscreen(page, size):
        for f in page.framed:
            f.panel.reset()  # at their final sizes
        exporters.settle()
        return exporters.render_image(page, (round(size[0] * scale), round(size[1] * scale)))


def write_summary(window, path: str | Path, size: tuple[int, int] = PAGE_SIZE,
                  scale: float = PAGE_SCALE) -> Path:
    """Write the summary page as PNG; returns the path."""
    image = render_summary(window, size, scale)
    path = Path(path)
    s = window.controller.session
    atomic_write_bytes(path, exporters.png_bytes(image, f"{exporters.run_title(s)}, step {s.step}"))
    return path
