"""The network's parameters: one heatmap per weight matrix and a TF-Playground-style diagram.

Every heatmap, edge and neuron uses the one diverging scale with ONE shared symmetric range, so a
colour means the same weight value in every layer and a layer whose weights shrink or grow stands
out. In the diagram an edge's width grows with |w| and its colour gives the sign; a neuron's fill
is its bias.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from .. import style
from .base import Panel, SessionHolder

EDGE_CAP = 600  # edges drawn per layer; wider layers show only their strongest weights
EDGE_BUDGET = 3000  # and at most about this many in all, so a deep wide net stays fast to draw
# Qt strokes wide antialiased lines slowly (about 1 ms per long edge): beyond this many edges the
# diagram is drawn without antialiasing, which is ~100× faster.
AA_EDGES = 250
N_WIDTHS = 5  # width classes per sign: each is one PlotCurveItem, so a frame is 2·N_WIDTHS setData calls
COLUMN_GAP = 3.0  # diagram x distance between layers, in neuron spacings
FUNCTION_MESSAGE = "Landscape task: the parameters are the point (x, y) — see the Landscape panel."


def _column_y(n: int) -> np.ndarray:
    """Neuron heights of a column of n: unit spacing up to 12 neurons, then squeezed into the same height."""
    span = min(n - 1, 11)
    return np.linspace(span / 2, -span / 2, n) if n > 1 else np.zeros(1)


HOVER_HINT = "hover a cell or a neuron for its exact value"

class WeightsPanel(Panel):
    """Weight heatmaps (shared symmetric levels) above a network diagram updated in place."""

    title = "Weights"
    name = "weights"

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.info = self.summary_label()
        self.message = QtWidgets.QLabel(FUNCTION_MESSAGE)
        self.message.setWordWrap(True)
        self.message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("font-size: 12pt; padding: 24px;")
        self.maps_view = pg.GraphicsLayoutWidget()
        self.maps_view.ci.layout.setHorizontalSpacing(4)
        self.net_view = pg.PlotWidget()
        self.net = self.net_view.getPlotItem()
        self.net.hideAxis("left")
        self.net.hideAxis("bottom")
        self.net.setMouseEnabled(False, False)
        self.net.setMenuEnabled(False)
        self.net.hideButtons()
        self.legend = style.ColorLegend("colour: weight / bias value, edge width: |w|")
        self.hover = QtWidgets.QLabel(HOVER_HINT)

        # Edge curves: one per (sign, width class); the pen (colour and width) of each never changes.
        self.edges: list[pg.PlotCurveItem] = []
        for sign in (-1, 1):
            for k in range(N_WIDTHS):
                a = (k + 0.5) / N_WIDTHS  # |w| / max|w| at the class centre
                color = style.DIVERGING.mapToQColor(0.5 + 0.5 * sign * a)
                color.setAlphaF(0.35 + 0.65 * a)  # weak edges fade into the background in both themes
                curve = pg.PlotCurveItem(pen=pg.mkPen(color, width=0.6 + 3.4 * a), connect="pairs")
                curve.setSegmentedLineMode("on")  # one drawLines call; a single wide path strokes slowly
                curve.setZValue(a)  # strong edges on top
                self.net.addItem(curve)
                self.edges.append(curve)
        self.neurons = pg.ScatterPlotItem(pen=pg.mkPen(self.th.fg, width=1))
        self.neurons.setZValue(5)
        self.net.addItem(self.neurons)
        self.labels: list[pg.TextItem] = []

        self.content = QtWidgets.QWidget()
        inner = QtWidgets.QVBoxLayout(self.content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(2)
        inner.addWidget(self.info)
        inner.addWidget(self.maps_view, 2)
        inner.addWidget(self.net_view, 3)
        inner.addWidget(self.legend)
        inner.addWidget(self.hover)
        self.stack = QtWidgets.QStackedLayout(self)
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.message)
        self.setMinimumSize(320, 260)
        self.maps: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self._shape: tuple | None = None  # (kind, layer count) the items were built for
        self.levels = (-1.0, 1.0)
        self.maps_view.scene().sigMouseMoved.connect(self._hover_maps)
        self.net_view.scene().sigMouseMoved.connect(self._hover_net)
        self.net.vb.sigResized.connect(self._resized)
        self.reset()

    # ------------------------------------------------------------------ structure
    def retheme(self) -> None:
        self._shape = None  # rebuild the theme-coloured items
        self.reset()

    def reset(self) -> None:
        s = self.session
        self.hover.setText(HOVER_HINT)  # "W1[2,7] = …" of the last network is stale under this one
        shape = (s.kind, s.n_layers)
        if shape != self._shape:
            self._shape = shape
            self._build_maps(0 if s.kind == "function" else s.n_layers)
        self.stack.setCurrentWidget(self.message if s.kind == "function" else self.content)
        if s.kind == "dataset":
            self._layout_diagram()
            self._titles()
        super().reset()

    def _titles(self) -> None:
        # A title sets its column's minimum width, so with many layers the titles get shorter
        # (the shapes stay in the hover text and the diagram's headers) or the row overflows.
        n = len(self.maps)
        for i, (plot, W) in enumerate(zip(self.maps, self.session.model.W)):
            shape = f"({W.shape[0]}×{W.shape[1]})"
            text = f"W{i + 1} {shape}" if n <= 4 else f"W{i + 1}<br>{shape}" if n <= 6 else f"W{i + 1}"
            plot.setTitle(text, color=style.layer_color(i), size="9pt" if n <= 4 else "8pt")

    def _build_maps(self, n: int) -> None:
        self.maps_view.clear()
        self.maps, self.images = [], []
        for i in range(n):
            plot = self.maps_view.addPlot(row=0, col=i)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setAspectLocked(True)
            plot.invertY(True)  # row 0 (the first input) on top, as the matrix is printed
            plot.setMouseEnabled(False, False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            img = pg.ImageItem(axisOrder="row-major")
            img.setColorMap(style.DIVERGING)
            plot.addItem(img)
            self.maps.append(plot)
            self.images.append(img)

    def _layout_diagram(self) -> None:
        """Neuron positions, names and column headers for the current layer sizes."""
        m = self.session.model
        self.edge_cap = min(EDGE_CAP, max(100, EDGE_BUDGET // m.n_layers))
        self.sizes = (m.n_in, *m.hidden, m.n_out)
        self.cols = [_column_y(n) for n in self.sizes]
        self.xy = np.concatenate([np.column_stack([np.full(len(c), COLUMN_GAP * j), c])
                                  for j, c in enumerate(self.cols)])
        self._placed = False  # the neurons move to self.xy at the next redraw
        self._bias_brushes = [pg.mkBrush(c) for c in style.DIVERGING.mapToQColor(np.linspace(0, 1, 256))]
        self._input_brush = pg.mkBrush(self.th.muted)
        for t in self.labels:
            self.net.removeItem(t)
        self.labels = []
        last = len(self.sizes) - 1
        self._head_px = 18 if last <= 4 else 32  # header height; many columns put the width on a 2nd line
        for j, n in enumerate(self.sizes):
            sep = " · " if last <= 4 else "\n"
            head = "input" if j == 0 else "output" if j == last else f"layer {j}{sep}{n}"
            color = self.th.fg if j == 0 else style.layer_color(j - 1)  # column j is layer j's output
            self._label(head, COLUMN_GAP * j, 0.0, color, (0.5, 0.5))
        self.headers = self.labels[:]
        for i, y in enumerate(self.cols[0]):
            self._label(f"x{'₁₂'[i]}", -0.35, y, self.th.fg, (1, 0.5))
        outs = (["ŷ"] if m.n_out == 1 else [f"class {c}" for c in range(m.n_out)])
        for name, y in zip(outs, self.cols[-1]):
            self._label(name, COLUMN_GAP * last + 0.35, y, self.th.fg, (0, 0.5))
        # Smallest vertical distance between two neurons of a column, for sizing the circles.
        self._gap = min((c[0] - c[1] for c in self.cols if len(c) > 1), default=1.0)
        # Outlines would merge into a black bar in a very wide column.
        self.neurons.setPen(pg.mkPen(self.th.fg, width=1) if max(self.sizes) <= 32 else None)
        self._fit()

    def _fit(self) -> None:
        """Fit the columns to the view, leaving a margin in PIXELS above them for the headers
        (a margin in data units would clip the text in a short panel and waste space in a tall one)."""
        half = max(0.5, max(c[0] for c in self.cols))
        height = self.net.vb.height()
        height = height if height > 60 else 200.0
        top_px, bottom_px = self._head_px + 16, 10
        u = 2 * half / (height - top_px - bottom_px)  # data units per pixel
        for t in self.headers:
            t.setPos(t.pos().x(), half + (10 + self._head_px / 2) * u)
        last = len(self.sizes) - 1
        self.net.setRange(xRange=(-1.2, COLUMN_GAP * last + 1.6),
                          yRange=(-half - bottom_px * u, half + top_px * u), padding=0)

    def _label(self, text: str, x: float, y: float, color: str, anchor: tuple) -> None:
        t = pg.TextItem(color=color, anchor=anchor)
        t.setHtml(f"<div style='text-align:center;color:{color}'>{text.replace(chr(10), '<br>')}</div>")
        t.textItem.setTextWidth(t.textItem.boundingRect().width())  # lets the centring apply
        t.setPos(x, y)
        self.net.addItem(t)
        self.labels.append(t)

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        s = self.session
        if s.kind != "dataset" or not self.due():  # weights move slowly: redraw at the throttled rate
            return
        m = s.model
        self.levels = style.symmetric_levels(*m.W, *m.b)
        for img, W in zip(self.images, m.W):
            img.setImage(style.drawable(W), autoLevels=False, levels=self.levels)
        self._draw_edges()
        self.legend.set_range(*self.levels)
        self.info.setText(f"<b>step {s.step}</b> · one colour range ±{style.fmt(self.levels[1])} for all layers · "
                          f"rows = inputs, columns = neurons" + self._capped_note())

    def _draw_edges(self) -> None:
        m, top = self.session.model, self.levels[1]
        segs: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in self.edges]
        for li, W in enumerate(m.W):
            w = style.drawable(W).ravel()
            cap = self.edge_cap
            idx = np.argpartition(np.abs(w), -cap)[-cap:] if w.size > cap else np.arange(w.size)
            i, j = np.divmod(idx, W.shape[1])
            x = np.repeat([[COLUMN_GAP * li, COLUMN_GAP * (li + 1)]], len(idx), axis=0).ravel()
            y = np.column_stack([self.cols[li][i], self.cols[li + 1][j]]).ravel()
            a = np.abs(w[idx]) / top
            k = np.minimum((a * N_WIDTHS).astype(int), N_WIDTHS - 1)
            bucket = np.where(w[idx] < 0, 0, N_WIDTHS) + k
            pair_bucket = np.repeat(bucket, 2)
            for b in np.unique(bucket):
                sel = pair_bucket == b
                segs[b].append((x[sel], y[sel]))
        smooth = sum(len(p[0]) for parts in segs for p in parts) <= 2 * AA_EDGES
        for curve, parts in zip(self.edges, segs):
            if parts:
                curve.setData(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                              antialias=smooth)
            else:
                curve.setData([], [])
        b = np.concatenate([np.nan_to_num(v) for v in m.b])
        lo, hi = self.levels
        # 256 shared brushes: a brush per neuron made setData ~7x slower on 8x256 nets (74 ms)
        shade = np.clip(np.rint((b - lo) / (hi - lo) * 255), 0, 255).astype(int)
        brushes = [self._input_brush] * m.n_in + [self._bias_brushes[k] for k in shade]  # inputs: no bias
        if self._placed:
            self.neurons.setBrush(brushes)
        else:
            self.neurons.setData(pos=self.xy, brush=brushes, size=self._neuron_size())
            self._placed = True

    def _neuron_size(self) -> float:
        """Circles as large as the column spacing allows on screen (14 px at most, 3 px at least)."""
        px = self.net.vb.viewPixelSize()[1] or 1.0
        return float(np.clip(0.8 * getattr(self, "_gap", 1.0) / px, 3.0, 14.0))

    def _resized(self) -> None:
        if self.session.kind == "dataset" and hasattr(self, "cols"):
            self._fit()
            if len(self.neurons.data):
                self.neurons.setSize(self._neuron_size())

    def _capped_note(self) -> str:
        big = [f"W{li + 1}" for li, W in enumerate(self.session.model.W) if W.size > self.edge_cap]
        if not big:
            return ""
        return f" · diagram: only the {self.edge_cap} strongest edges of {', '.join(big)}"

    # ------------------------------------------------------------------ hover
    def _hover_maps(self, pos: QtCore.QPointF) -> None:
        if self.session.kind != "dataset":
            return
        for li, (plot, W) in enumerate(zip(self.maps, self.session.model.W)):
            if plot.vb.sceneBoundingRect().contains(pos):
                p = plot.vb.mapSceneToView(pos)
                r, c = int(np.floor(p.y())), int(np.floor(p.x()))
                if 0 <= r < W.shape[0] and 0 <= c < W.shape[1]:
                    src = f"x{'₁₂'[r]}" if li == 0 else f"neuron {r + 1} of layer {li}"
                    self.hover.setText(f"W{li + 1}[{r + 1}, {c + 1}] = {style.fmt(W[r, c])}  ({src} → "
                                       f"{'output' if li == len(self.maps) - 1 else f'layer {li + 1}'} "
                                       f"neuron {c + 1})")
                return

    def _hover_net(self, pos: QtCore.QPointF) -> None:
        if self.session.kind != "dataset" or not self.net.vb.sceneBoundingRect().contains(pos):
            return
        hit = self.neurons.pointsAt(self.net.vb.mapSceneToView(pos))
        if len(hit) == 0:
            return
        k = int(hit[0].index())
        starts = np.cumsum((0,) + self.sizes)
        col = int(np.searchsorted(starts, k, side="right") - 1)
        i = k - starts[col]
        if col == 0:
            self.hover.setText(f"input x{'₁₂'[i]}")
        else:
            self.hover.setText(f"layer {col}, neuron {i + 1}: bias b = {style.fmt(self.session.model.b[col - 1][i])}")
