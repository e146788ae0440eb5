"""The shared look of every plot: one diverging scale, layer and class colours, theme, number format.

Every signed quantity (weights, biases, model outputs) uses TF Playground's orange (−) / white (0) /
blue (+) scale with symmetric levels, so a colour means the same thing in every panel. Layer i keeps
`layer_color(i)` everywhere (curves, histograms, diagram labels). Plot colours follow the Qt palette
so panels read well in light and dark themes and in exported images.
"""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

# TF Playground's colours (its d3 scale uses these three stops).
NEGATIVE = "#f59322"
ZERO = "#e8eaeb"
POSITIVE = "#0877bd"
DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [NEGATIVE, ZERO, POSITIVE], name="gradplay-diverging")
# The decision map under the data points: TF Playground paints its scale at alpha 160/255 over white,
# so that points of either class stay readable on it (on the full colours they vanished into
# hollow outlines). The same blend, as colours of their own.
MAP_ALPHA = 160 / 255


def pale(color: str, alpha: float = MAP_ALPHA) -> str:
    """`color` painted at `alpha` over white, as #rrggbb."""
    r, g, b = pg.mkColor(color).getRgb()[:3]
    return "#" + "".join(f"{round(255 - alpha * (255 - c)):02x}" for c in (r, g, b))


PALE_DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [pale(NEGATIVE), pale(ZERO), pale(POSITIVE)],
                             name="gradplay-diverging-pale")

# Classes: 0 / −1 is orange and 1 / +1 is blue, as on the diverging scale; a third class is green.
# Up to six classes (datasets.CLASS_RANGES): the two of a binary set, then green, purple, brown and
# pink from matplotlib's tab10, which stay apart from each other and from the first two.
CLASS_COLORS = (NEGATIVE, POSITIVE, "#3aa655", "#9467bd", "#8c564b", "#e377c2")

# Mid-lightness hues readable on white and near-black, avoiding the orange and blue that mean a sign.
LAYER_COLORS = ("#8e5bd6", "#12a39a", "#d6336c", "#7cb342", "#c9a227",
                "#5c6bc0", "#a1887f", "#e056fd", "#00acc1")

# Landscapes are unsigned: a sequential map, dark at the bottom, so a white trajectory stands out.
SEQUENTIAL = pg.colormap.get("viridis")


def layer_color(i: int) -> str:
    """The colour of layer i (0-based) in every panel."""
    return LAYER_COLORS[i % len(LAYER_COLORS)]


def fmt(v: float, digits: int = 3) -> str:
    """A number to `digits` significant digits with a true minus sign; nan/inf spelled out."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    s = f"{v:.{digits}g}"
    if "e" in s:  # 1.23e-05 -> 1.23e−5
        mant, exp = s.split("e")
        s = f"{mant}e{int(exp)}"
    return s.replace("-", "−")


DRAW_LIMIT = 1e300  # the largest |value| handed to pyqtgraph: its scaling computes max − min


def symmetric_levels(*arrays: np.ndarray, floor: float = 1e-12) -> tuple[float, float]:
    """(−m, m) with m the largest finite |value| of the arrays (at least `floor`, at most
    DRAW_LIMIT: 1e308 weights overflowed pyqtgraph's level range), so 0 is white."""
    m = floor
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        fin = a[np.isfinite(a)]
        if fin.size:
            m = max(m, float(np.max(np.abs(fin))))
    m = min(m, DRAW_LIMIT)
    return (-m, m)


def drawable(a: np.ndarray) -> np.ndarray:
    """`a` as pyqtgraph can draw it: nan as 0, and every value within ±DRAW_LIMIT."""
    return np.clip(np.nan_to_num(np.asarray(a, dtype=np.float64)), -DRAW_LIMIT, DRAW_LIMIT)


def class_index(y: np.ndarray) -> np.ndarray:
    """Labels in any stored format ({0,1}, ±1, index) as class indices 0, 1, 2."""
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        return y.astype(np.int64)
    return (y > 0).astype(np.int64)  # binary {0,1} and pm1 {−1,1} both map to {0,1}


# ----------------------------------------------------------------------------------- theme
@dataclass(frozen=True)
class Theme:
    """The colours plots take from the light or dark palette."""

    dark: bool
    bg: str  # plot background
    fg: str  # axes, text, neutral curves
    muted: str  # secondary curves (noisy batch loss), grid


def theme(palette: QtGui.QPalette | None = None) -> Theme:
    """Light or dark, read from the window colour of the (application) palette."""
    if palette is None:
        app = QtWidgets.QApplication.instance()
        palette = app.palette() if app is not None else QtGui.QPalette()
    dark = palette.color(QtGui.QPalette.ColorRole.Window).lightness() < 128
    if dark:
        return Theme(True, "#1e1f22", "#d8dadd", "#7d8087")
    return Theme(False, "#ffffff", "#303236", "#a4a7ad")


def apply_pg_theme(th: Theme | None = None) -> Theme:
    """Make pyqtgraph's defaults (background, axes) follow the theme for items created from now on."""
    th = th or theme()
    pg.setConfigOptions(background=th.bg, foreground=th.fg, antialias=True)
    return th


def restyle(root: QtWidgets.QWidget, th: Theme | None = None) -> None:
    """Recolour the existing plots under `root` after a theme switch (backgrounds, axes, titles)."""
    th = apply_pg_theme(th)
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(th.bg)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(th.fg)
                item.setTextPen(th.fg)
                if item.label is not None:
                    item.label.setDefaultTextColor(pg.mkColor(th.fg))
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextColor(th.fg)
                item.setBrush(legend_brush(th))
            elif isinstance(item, pg.LabelItem) and item.text:  # plot titles
                item.setText(item.text, color=th.fg)


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
        return self._room_vertically(values, texts, decades=True)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return self._room_vertically(values, super().tickStrings(values, scale, spacing), decades=False)

    def _room_vertically(self, values: list[float], texts: list[str], decades: bool) -> list[str]:
        """On a vertical axis, only labels a text line apart: a short plot labelled every tick, and at
        step 0 (one decade, or a narrow linear range) "0.0004 … 0.002" and "42 … 50" lay on one
        another in 60-120 px. Decades (log) are kept first, then the others where they fit."""
        if self.orientation not in ("left", "right") or len(values) < 2:
            return texts
        lo, hi = sorted(self.range)
        height = self.height() if self.height() > 1 else 0.0
        if hi <= lo or height <= 0:
            return texts
        need = QtGui.QFontMetrics(self.style.get("tickFont") or self.font()).height() + 2
        px = [(v - lo) / (hi - lo) * height for v in values]
        order = sorted(range(len(values)),
                       key=lambda i: (not (decades and abs(values[i] - round(values[i])) < 1e-6), i))
        kept: list[float] = []
        out = [""] * len(texts)
        for i in order:
            if texts[i] and all(abs(px[i] - k) >= need for k in kept):
                kept.append(px[i])
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


def _nice_step(x: float) -> float:
    """The 1-2-5 number (…, 0.5, 1, 2, 5, 10, …) at or above x > 0."""
    e = math.floor(math.log10(x))
    m = x / 10.0**e
    return next(k for k in (1.0, 2.0, 5.0, 10.0) if k >= m * (1 - 1e-9)) * 10.0**e


EMPTY_RANGE = (0.0, 1.0)  # what an auto-ranged axis shows while its plot has no data


class StickyViewBox(pg.ViewBox):
    """A ViewBox whose auto-range moves in coarse steps.

    pyqtgraph's auto-range follows the data exactly, so a curve that grows every frame re-ranges
    its axes every frame, and a new range regenerates the axis' ticks, labels and grid, the largest
    cost of a frame at full training speed. Here each axis snaps to a 1-2-5 grid (a quarter of the
    span) with room above, and stays until the data leaves it or fills less than half of it.
    Curves in it are decimated before setData: pyqtgraph's clipToView and auto-downsampling make
    the data bounds depend on the view, and the range would flip between two states.
    While the curves stand still (`set_moving(False)`, the default) the range fits them tightly.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sticky: list[tuple[float, float] | None] = [None, None]
        self._moving = False

    def set_moving(self, moving: bool) -> None:
        """Coarse steps while the curves grow (training plays), a tight fit while they stand still."""
        self._moving = moving
        self._sticky = [None, None]
        self.queueUpdateAutoRange()

    def updateAutoRange(self) -> None:  # noqa: N802 (pyqtgraph API)
        """pyqtgraph keeps the last range when there is nothing to fit: after Reset or a new run the
        empty loss plot at step 0 still spanned steps -162...162 and the last run's values. An
        auto-ranged axis with no data shows 0...1 instead."""
        bounds = self.childrenBounds()
        empty = [self.state["autoRange"][ax] is not False and bounds[ax] is None for ax in (0, 1)]
        if any(empty):
            self._sticky = [None if e else s for e, s in zip(empty, self._sticky)]
            self.setRange(xRange=EMPTY_RANGE if empty[0] else None, yRange=EMPTY_RANGE if empty[1] else None,
                          padding=0, update=False, disableAutoRange=False)
        super().updateAutoRange()

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):  # noqa: N802 (pyqtgraph API)
        bounds = super().childrenBounds(frac=frac, orthoRange=orthoRange, items=items)
        if items is not None or not self._moving:
            return bounds
        for ax in (0, 1):
            if bounds[ax] is None:
                continue
            lo, hi = map(float, bounds[ax])
            old = self._sticky[ax]
            if not (math.isfinite(lo) and math.isfinite(hi)):
                continue
            # Items drawn in pixels (markers, labels) add a margin that shrinks as the range grows:
            # ignoring 2 % of the span keeps that from flipping the range back and forth.
            tol = 0.02 * (hi - lo)
            lo, hi = lo + tol, hi - tol
            if old is None or not (old[0] <= lo and hi <= old[1] and hi - lo >= 0.5 * (old[1] - old[0])):
                step = _nice_step(max(hi - lo, 1e-9 * max(abs(lo), abs(hi)), 1e-300) / 4)
                old = self._sticky[ax] = (math.floor(lo / step) * step, math.ceil((hi + step / 2) / step) * step)
            bounds[ax] = list(old)
        return bounds


def set_moving(root: QtWidgets.QWidget, moving: bool) -> None:
    """`StickyViewBox.set_moving` for every such view box in the plots under `root`."""
    for view in root.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, StickyViewBox):
                item.set_moving(moving)


def axes() -> dict[str, Axis]:
    """gradplay's left and bottom axes, for `axisItems=` of a PlotItem or PlotWidget."""
    return {side: Axis(side) for side in ("left", "bottom")}


def plot_widget() -> pg.PlotWidget:
    """A PlotWidget with gradplay's axes and coarse-stepped auto-range (for curves that grow)."""
    return pg.PlotWidget(axisItems=axes(), viewBox=StickyViewBox())


def theme_changed(widget: QtWidgets.QWidget, event: QtCore.QEvent) -> Theme | None:
    """The new theme if `event` switched light <-> dark for a panel holding `widget.th`, else None.

    Recolours the panel's existing plots; the panel then re-pens its own theme-coloured items."""
    if event.type() != QtCore.QEvent.Type.PaletteChange:
        return None
    th = theme()
    if th == getattr(widget, "th", None):
        return None
    widget.th = th
    restyle(widget, th)
    return th


def legend_brush(th: Theme) -> QtGui.QBrush:
    c = pg.mkColor(th.bg)
    c.setAlpha(200)
    return pg.mkBrush(c)


def apply_plot_style(plot: pg.PlotItem, title: str, xlabel: str, ylabel: str, th: Theme | None = None,
                     grid: bool = True) -> None:
    """Title (none if empty), axis labels, a faint grid (not over images) and compact margins, themed."""
    th = th or theme()
    plot.setTitle(title or None, color=th.fg, size="10pt")
    label_style = {"color": th.fg, "font-size": "9pt"}
    plot.setLabel("bottom", xlabel, **label_style)
    plot.setLabel("left", ylabel, **label_style)
    plot.showGrid(x=grid, y=grid, alpha=0.15)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        # Repaint from a pixmap unless the axis itself changed: with a grid the axis spans the
        # whole view, so every new point of a curve repainted its labels and grid lines (~2 ms
        # per axis, the largest cost of a frame while training at full speed).
        axis.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        axis.setTextPen(th.fg)
        axis.setPen(th.fg)
        axis.enableAutoSIPrefix(False)  # "0.7", not "700 (x0.001)"
    plot.getAxis("left").setWidth(52)  # room for "1e−5" tick labels, equal in stacked plots
    plot.setMenuEnabled(False)


class LegendStrip(QtWidgets.QLabel):
    """A legend in a strip of its own above the plot, one line sample and name per series.

    A legend inside the plot covered the curves in every corner at 1280×720 (the loss plot is
    ~60 px tall there) and the Curvature legend hid λmax after step 350; a strip never does."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.entries: list[tuple[str, QtGui.QPen]] = []

    def set_entries(self, entries: Sequence[tuple[str, QtGui.QPen]]) -> None:
        self.entries = [(name, QtGui.QPen(pen)) for name, pen in entries]
        parts = []
        for name, pen in self.entries:
            dashed = pen.style() != QtCore.Qt.PenStyle.SolidLine
            sample = "╌╌╌" if dashed else ("━━━" if pen.widthF() >= 2 else "───")
            parts.append(f"<span style='color:{pen.color().name()}'>{sample}</span>&nbsp;{html.escape(name)}")
        self.setText("<span style='font-size:8pt'>" + "&nbsp;&nbsp;&nbsp;".join(parts) + "</span>")

    def names(self) -> list[str]:
        return [name for name, _ in self.entries]


# ------------------------------------------------------------------------------- plot data
def decimate(x: np.ndarray, y: np.ndarray, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """At most ~max_points of (x, y) keeping each bucket's min and max, so spikes survive.

    x must be sorted. Non-finite y are dropped first (they would break min/max and log plots).
    """
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y)
    if not keep.all():
        x, y = x[keep], y[keep]
    n = len(y)
    if n <= max_points:
        return x, y
    buckets = max_points // 2
    k = -(-n // buckets)  # bucket size, rounded up
    pad = buckets * k - n
    yp = np.concatenate([y, np.full(pad, y[-1])]).reshape(buckets, k)
    base = np.arange(buckets) * k
    a, b = base + yp.argmin(axis=1), base + yp.argmax(axis=1)
    # min and max of each bucket in x order, buckets in order: sorted without np.unique's sort
    idx = np.minimum(np.column_stack([np.minimum(a, b), np.maximum(a, b)]).ravel(), n - 1)
    idx = idx[np.r_[True, idx[1:] != idx[:-1]]]
    return x[idx], y[idx]


def thin(x: np.ndarray, y: np.ndarray, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th point of a smooth curve (and its last), at most ~max_points: a moving average has
    no spikes for `decimate`'s min/max buckets to keep, at a fraction of their cost."""
    k = -(-len(y) // max_points) if len(y) > max_points else 1
    if k == 1:
        return np.asarray(x), np.asarray(y)
    idx = np.r_[np.arange(0, len(y) - 1, k), len(y) - 1]
    return np.asarray(x)[idx], np.asarray(y)[idx]


def positive(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the points a log axis can show (finite and > 0)."""
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(y) & (y > 0)
    return np.asarray(x)[keep], y[keep]


# --------------------------------------------------------------------------- hover readout
class HoverReadout:
    """Exact values (3 significant digits) of each series at the step under the mouse.

    The panel hands over the arrays it plotted with `set`; moving the mouse over the plot shows a
    dashed line at the nearest step and a label listing every series there.
    """

    def __init__(self, plot: pg.PlotItem, xname: str = "step"):
        self.plot, self.xname = plot, xname
        self.series: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
        self.marks: list[tuple[float, str]] = []  # (x, text): events at an x, listed when the mouse is near
        th = theme()
        self.line = pg.InfiniteLine(angle=90, pen=pg.mkPen(th.muted, style=QtCore.Qt.PenStyle.DashLine))
        self.text = pg.TextItem(anchor=(0, 0), fill=legend_brush(th), border=pg.mkPen(th.muted))
        for item in (self.line, self.text):
            item.setZValue(50)
            item.hide()
            plot.addItem(item, ignoreBounds=True)
        plot.scene().sigMouseMoved.connect(self._moved)

    def clear(self) -> None:
        self.series.clear()

    def set(self, name: str, x: np.ndarray, y: np.ndarray, color: str) -> None:
        self.series[name] = (np.asarray(x), np.asarray(y), color)

    def text_at(self, x: float) -> tuple[float, str]:
        """(the nearest recorded x, an HTML list of each series' value there)."""
        best_x, rows = math.nan, []
        for name, (xs, ys, color) in self.series.items():
            if len(xs) == 0:
                continue
            i = int(np.clip(np.searchsorted(xs, x), 1, len(xs) - 1)) if len(xs) > 1 else 0
            if len(xs) > 1 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
                i -= 1
            if math.isnan(best_x):
                best_x = float(xs[i])
            rows.append(f"<span style='color:{color}'>■</span> {name}: {fmt(ys[i])}")
        head = f"{self.xname} {fmt(best_x, 6)}" if not math.isnan(best_x) else ""
        (x0, x1), _ = self.plot.vb.viewRange()
        near = 0.02 * abs(x1 - x0)  # within 2 % of the view: a few pixels of the mark's line
        rows += [html.escape(text) for mx, text in self.marks if abs(mx - x) <= near]
        return best_x, "<br>".join([head] + rows)

    def _moved(self, pos: QtCore.QPointF) -> None:
        vb = self.plot.vb
        if not self.series or not self.plot.isVisible() or not vb.sceneBoundingRect().contains(pos):
            self.line.hide()
            self.text.hide()
            return
        p = vb.mapSceneToView(pos)
        x_log = self.plot.ctrl.logXCheck.isChecked()
        x = 10 ** p.x() if x_log else p.x()
        best, html = self.text_at(x)
        if math.isnan(best):
            return
        self.line.setPos(math.log10(best) if x_log and best > 0 else best)
        th = theme()  # read now, so a theme switch needs no bookkeeping here
        self.text.fill = legend_brush(th)
        self.text.setHtml(f"<div style='font-size:8pt;color:{th.fg}'>{html}</div>")
        (x0, x1), _ = vb.viewRange()
        self.text.setAnchor((1, 0) if p.x() > (x0 + x1) / 2 else (0, 0))  # stay inside the plot
        self.text.setPos(p)
        self.line.show()
        self.text.show()


# ---------------------------------------------------------------------------- colour legend
class ColorLegend(QtWidgets.QWidget):
    """TF Playground's little legend: a caption and the diverging bar labelled −m … 0 … m,
    or, for classes, one swatch per class."""

    def __init__(self, caption: str = "colour: value", parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.caption, self.lo, self.hi = caption, -1.0, 1.0
        self.labels: tuple[str, str, str] | None = None
        self.classes: list[tuple[str, str]] = []
        self.pale = False  # the bar in the map's pale colours (PALE_DIVERGING), not the full ones
        self.setFixedHeight(22)

    def set_range(self, lo: float, hi: float, caption: str | None = None,
                  labels: tuple[str, str, str] | None = None) -> None:
        """Show the diverging bar from lo to hi (labels override the numbers at ends and middle)."""
        self.lo, self.hi, self.labels, self.classes = lo, hi, labels, []
        if caption is not None:
            self.caption = caption
        self.setToolTip(self.text())
        self.update()

    def set_classes(self, names: Sequence[str], colors: Sequence[str], caption: str | None = None) -> None:
        self.classes = list(zip(names, colors))
        if caption is not None:
            self.caption = caption
        self.setToolTip(self.text())
        self.update()

    def text(self) -> str:
        """What the legend says, as plain text (for tests and tooltips)."""
        if self.classes:
            return f"{self.caption}  " + "  ".join(n for n, _ in self.classes)
        lo, mid, hi = self.labels or (fmt(self.lo), "0", fmt(self.hi))
        return f"{self.caption}  {lo} … {mid} … {hi}"

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.setPen(pal.color(QtGui.QPalette.ColorRole.WindowText))
        fm = p.fontMetrics()
        h, x = self.height(), 4
        cy = h // 2 + fm.ascent() // 2 - 1
        lo, mid, hi = self.labels or (fmt(self.lo), "0", fmt(self.hi))
        if self.classes:
            rest = sum(14 + fm.horizontalAdvance(name) + 12 for name, _ in self.classes)
        else:
            rest = fm.horizontalAdvance(lo) + 4 + 60 + 4 + fm.horizontalAdvance(hi) + 6
        # a narrow panel shortens the caption (the full text is the tooltip), never cuts the scale
        caption = fm.elidedText(self.caption, QtCore.Qt.TextElideMode.ElideRight, max(0, self.width() - rest - 18))
        if caption:
            p.drawText(x, cy, caption)
            x += fm.horizontalAdvance(caption) + 10
        if self.classes:
            for name, color in self.classes:
                p.fillRect(QtCore.QRectF(x, h / 2 - 5, 10, 10), QtGui.QColor(color))
                x += 14
                p.drawText(x, cy, name)
                x += fm.horizontalAdvance(name) + 12
            return
        p.drawText(x, cy, lo)
        x += fm.horizontalAdvance(lo) + 4
        bar_w = max(60, min(160, self.width() - x - fm.horizontalAdvance(hi) - 10))
        grad = QtGui.QLinearGradient(x, 0, x + bar_w, 0)
        for pos, color in ((0.0, NEGATIVE), (0.5, ZERO), (1.0, POSITIVE)):
            grad.setColorAt(pos, QtGui.QColor(pale(color) if self.pale else color))
        p.fillRect(QtCore.QRectF(x, h / 2 - 5, bar_w, 10), grad)
        p.drawLine(QtCore.QPointF(x + bar_w / 2, h / 2 - 7), QtCore.QPointF(x + bar_w / 2, h / 2 + 7))
        p.drawText(int(x + bar_w + 4), cy, hi)
