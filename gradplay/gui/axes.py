"""gradplay's plot axis: readable log ticks, labels that never overlap, equal widths in stacked plots."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

from .number_format import fmt


class Axis(pg.AxisItem):
    """An axis whose log mode labels decades as plain numbers (0.001, 1, 1e5), adds 2 and 5 when
    less than ~1.5 decades are visible and round linear values inside one decade, instead of
    pyqtgraph's crowded "2·10¹ 3·10¹ …" or, on a narrow range, no labels at all."""

    def updateAutoSIPrefix(self) -> None:
        # pyqtgraph 0.14 still rescales ("(x0.001)") after enableAutoSIPrefix(False); never rescale.
        if getattr(self, "autoSIPrefix", True) is False:
            self.autoSIPrefixScale, self.labelUnitPrefix = 1.0, ""
            self._updateLabel()
            return
        super().updateAutoSIPrefix()

    peers: list[Axis] = []  # left axes of plots stacked with this one (X-linked): one width for all
    _need = 0

    def _updateWidth(self) -> None:  # noqa: N802 (pyqtgraph override)
        """A fixed width (equal in stacked plots) that still grows when the tick labels need more:
        "1e200" on a diverging loss overwrote the axis title in 52 px. Stacked plots grow together:
        X-linked views align by pixels, so unequal axes shifted one plot's steps against the other's."""
        fixed = self.fixedWidth
        if fixed is not None and self.orientation in ("left", "right") and self.isVisible():
            need = self.textWidth + self.style["tickTextOffset"][0] + max(0, self.style["tickLength"])
            if self.label.isVisible():
                need += self.label.boundingRect().height() * 0.8
            changed, self._need = int(math.ceil(need)) != self._need, int(math.ceil(need))
            width = max([fixed, self._need] + [p._need for p in self.peers if p.isVisible()])
            self.fixedWidth = width
            super()._updateWidth()
            self.fixedWidth = fixed  # grown for these labels only: the next range may fit again
            if changed:
                for p in self.peers:
                    p._updateWidth()
            return
        super()._updateWidth()


    def logTickValues(self, minVal: float, maxVal: float, size: float, stdTicks: list) -> list:
        span = maxVal - minVal
        if span >= 1.5:  # several decades: pyqtgraph's decades (labelled) and 2…9 (unlabelled)
            return super().logTickValues(minVal, maxVal, size, stdTicks)
        if span >= 0.4:  # about a decade: 1, 2, 3, 5 × 10^k
            ks = range(math.floor(minVal), math.ceil(maxVal) + 1)
            vals = np.log10([m * 10.0**k for k in ks for m in (1, 2, 3, 5)])
            return [(None, [v for v in vals if minVal <= v <= maxVal])]
        lo, hi = 10.0**minVal, 10.0**maxVal  # a narrow range: round linear steps
        raw = (hi - lo) / max(2.0, size / 60.0)
        mag = 10.0 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
        vals = np.arange(math.ceil(lo / step) * step, hi, step)
        return [(None, list(np.log10(vals[vals > 0])))]

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        lo, hi = sorted(self.range)
        texts = [fmt(10**v * scale) if abs(v - round(v)) < 1e-6 or hi - lo < 1.5 else "" for v in values]
        every = self._label_every(texts, hi - lo)
        texts = [t if t and (every == 1 or round(v) % every == 0) else "" for t, v in zip(texts, values)]
        return self._room(values, texts, decades=True)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return self._room(values, super().tickStrings(values, scale, spacing), decades=False)

    def _room(self, values: list[float], texts: list[str], decades: bool) -> list[str]:
        """Only labels that do not touch: on a vertical axis a text line apart (a short plot labelled
        every tick, and at step 0 "0.0004 … 0.002" and "42 … 50" lay on one another in 60-120 px), on
        a horizontal one half their widths and a gap apart (about a decade of "Gradients now" read
        "0.0020.0030.005" at 1600×1000). Decades (log) are kept first, then the others where they fit."""
        vertical = self.orientation in ("left", "right")
        if len(values) < 2:
            return texts
        lo, hi = sorted(self.range)
        length = self.height() if vertical else self.width()
        if hi <= lo or length <= 1:
            return texts
        metrics = QtGui.QFontMetrics(self.style.get("tickFont") or self.font())
        half = [metrics.height() / 2 + 1 if vertical else metrics.horizontalAdvance(t) / 2 + 5 for t in texts]
        px = [(v - lo) / (hi - lo) * length for v in values]
        order = sorted(range(len(values)),
                       key=lambda i: (not (decades and abs(values[i] - round(values[i])) < 1e-6), i))
        kept: list[int] = []
        out = [""] * len(texts)
        for i in order:
            if texts[i] and all(abs(px[i] - px[k]) >= half[i] + half[k] for k in kept):
                kept.append(i)
                out[i] = texts[i]
        return out

    def _label_every(self, texts: list[str], decades: float) -> int:
        """On a horizontal axis, label every k-th decade so the labels do not run together (a
        narrow "Gradients now" read "1e−50.00010.001")."""
        if self.orientation not in ("bottom", "top") or decades < 1.5:
            return 1
        # the widest label as drawn (digits are wider than the font's average character, and
        # "1e−6 0.0001 0.01" ran together in a real window at 1600×1000) and a gap
        metrics = QtGui.QFontMetrics(self.style.get("tickFont") or self.font())
        width = max((metrics.horizontalAdvance(t) for t in texts), default=0) + 14
        per_decade = max(self.width(), 1) / decades
        return max(1, math.ceil(width / per_decade))


def share_axis_width(*plots: pg.PlotItem) -> None:
    """Stacked, X-linked plots keep their left axes equally wide, also when one's labels grow."""
    axes = [p.getAxis("left") for p in plots]
    for a in axes:
        if isinstance(a, Axis):
            a.peers = [b for b in axes if b is not a and isinstance(b, Axis)]
