"""The network's parameters: one heatmap per weight matrix and a TF-Playground-style diagram.

Every heatmap, edge and neuron uses the one diverging scale with ONE shared symmetric range, so a
colour means the same weight value in every layer and a layer whose weights shrink or grow stands
out. In the diagram an edge's width grows with |w| and its colour gives the sign; a neuron's fill
is its bias.

As in TF Playground, the input column lists all nine candidate input features (core/features.py),
each with its map over the plane: the active ones bright and wired into W1, the others faded and
unwired. Clicking one adds it to the network's inputs or removes it (a new run, as the ± buttons).
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core import config as config_mod
from ...core import features, timeline, unit_maps
from ..colors import DIVERGING, PALE_DIVERGING, layer_color
from ..legends import ColorLegend
from ..levels import drawable, symmetric_levels
from ..number_format import fmt
from ..theme import faint
from ..widgets.network_buttons import NetworkButtons
from ..widgets.param_editor import ParamEditor
from .base import Panel, SessionHolder

EDGE_CAP = 600  # edges drawn per layer; wider layers show only their strongest weights
EDGE_BUDGET = 3000  # and at most about this many in all, so a deep wide net stays fast to draw
# Qt strokes wide antialiased lines slowly (about 1 ms per long edge): beyond this many edges the
# diagram is drawn without antialiasing, which is ~100× faster.
AA_EDGES = 250
N_WIDTHS = 5  # width classes per sign: each is one PlotCurveItem, so a frame is 2·N_WIDTHS setData calls
COLUMN_GAP = 3.0  # diagram x distance between layers, in neuron spacings
# Per-neuron maps. Grid samples per axis: MAP_GRID, fewer (down to MIN_MAP_GRID) when one pass over
# all units costs more than MAP_SECONDS; a 2-8-8-8-1 net takes ~0.3 ms at 24², a 256-wide 8-layer
# net ~40 ms, and the panel's due() spaces its redraws by their measured cost on top of that.
MAP_GRID = 24
MIN_MAP_GRID = 12
MAP_SECONDS = 0.008
MAP_COLUMN_MAX = 12  # maps per column: a wider layer shows its strongest neurons (largest outgoing |w|)
MAP_FILL = 0.8  # a map's side as a share of the neuron spacing (maps sit one spacing apart)...
MAP_MAX_X = 1.1  # ...and at most this many x units wide (a column gap is COLUMN_GAP), so edges show
MAP_MAX_PX = 64
SLOT_PX = 20  # the least distance between the centres of two maps of a column (a map: MAP_FILL of it)
MIN_MAP_PX = 14  # below this a map is a smudge: the diagram falls back to plain circles
RING_PX = 4  # the bias-coloured frame around a map (2 px on each side)
LABEL_PX = 44  # room left of the input maps for their names ("sin x₁")
MAX_DOT_PX = 14  # a neuron's circle at most (`_neuron_size`)
MIN_INPUT_PX = 9  # input tiles smaller than this give way to circles (a feature's map is smooth)
MIN_LABEL_GAP_PX = 13  # input slots closer than this name only the active inputs (the rest overlapped)
UNUSED_SHARE = 0.25  # in a squeezed input column, an unused input's share of the height (a used one: 1)
STRETCH = 4.0  # a heatmap cell may be this many times wider than tall (or taller than wide) to fill its box
TITLE_PX = 16  # a heatmap's title row
FADED = 0.4  # opacity of an unused input's map
BUTTONS_PX = 26  # room under the diagram for the ± neuron buttons
FUNCTION_MESSAGE = "Landscape task: the parameters are the point (x, y) — see the Landscape panel."


def _column_y(n: int, cap: int = 12) -> np.ndarray:
    """Neuron heights of a column of n: unit spacing up to `cap` neurons, then squeezed into the same height."""
    span = min(n - 1, cap - 1)
    return np.linspace(span / 2, -span / 2, n) if n > 1 else np.zeros(1)


def _input_y(active: np.ndarray, span: float) -> np.ndarray:
    """Heights of the input slots over `span` (top to bottom) where each used input takes a full
    share of the column and an unused one UNUSED_SHARE: in a short panel the used inputs keep room
    for their names (x₂ was left unnamed under x₁ at 1280×720 with nine equal slots)."""
    share = np.where(active, 1.0, UNUSED_SHARE)
    y = np.r_[0.0, np.cumsum((share[:-1] + share[1:]) / 2)]
    return span / 2 - y * span / y[-1]


HOVER_HINT = "hover: a weight's exact value · click: set it"  # a cell, an edge or a neuron (bias)
OUT_GAP_PX = 11  # from an output neuron's centre to its name (the circle is at most 14 px across)
EDGE_PICK_PX = 5  # a click this close to a drawn edge (in screen pixels) picks its weight
# (the summary line above says the maps are hidden; at 1280×720 a longer hint ran past the panel's edge)
SMALL_HINT = HOVER_HINT + " · enlarge the panel for neuron maps"

class WeightsPanel(Panel):
    """Weight heatmaps (shared symmetric levels) above a network diagram updated in place."""

    title = "Weights"
    name = "weights"
    # (layer, unit) of the neuron under the mouse (layer 0 = the inputs, 1.. = hidden layers), or None
    # when the mouse leaves them (the output neurons, whose map is the Landscape panel's, give None).
    unit_hovered = QtCore.Signal(object)

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.info = self.summary_label()
        self.message = QtWidgets.QLabel(FUNCTION_MESSAGE)
        self.message.setWordWrap(True)
        self.message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("font-size: 12pt; padding: 24px;")
        self.maps_view = pg.GraphicsLayoutWidget()
        self.maps_view.ci.layout.setHorizontalSpacing(4)
        self.maps_view.ci.setContentsMargins(2, 2, 2, 2)
        self.net_view = pg.PlotWidget()
        self.net = self.net_view.getPlotItem()
        self.net.hideAxis("left")
        self.net.hideAxis("bottom")
        self.net.setMouseEnabled(False, False)
        self.net.setMenuEnabled(False)
        self.net.hideButtons()
        self.legend = ColorLegend("colour: weight, bias · edge width: |w|")
        self.hover = QtWidgets.QLabel(HOVER_HINT)

        # Edge curves: one per (sign, width class); the pen (colour and width) of each changes only
        # with the theme.
        self.edges: list[pg.PlotCurveItem] = []
        for _ in range(2 * N_WIDTHS):
            curve = pg.PlotCurveItem(connect="pairs")
            curve.setSegmentedLineMode("on")  # one drawLines call; a single wide path strokes slowly
            self.net.addItem(curve)
            self.edges.append(curve)
        self._pen_edges()
        self.neurons = pg.ScatterPlotItem(pen=pg.mkPen(self.th.fg, width=1))
        self.neurons.setZValue(5)
        self.net.addItem(self.neurons)
        # Maps: a bias-coloured square behind each (the frame), then one ImageItem per shown neuron,
        # made for each network shape and updated with setImage. (One ImageItem per neuron: ≤ 98 of
        # them at 8 × 12 shown; 26 ImageItem.setImage calls of 24² take ~1.5 ms, at the throttled rate.)
        self.frames = pg.ScatterPlotItem(symbol="s", pxMode=True)
        self.frames.setZValue(6)
        self.net.addItem(self.frames)
        self.map_items: list[list[pg.ImageItem]] = []  # per column (inputs, hidden layers): its maps
        self.map_units: list[np.ndarray] = []  # per column: the unit each map shows, top to bottom
        self.map_slots: list[np.ndarray] = []  # per column: the maps' heights
        self.map_rects: list[list[QtCore.QRectF]] = []  # per column: each map's square (view units)
        self.maps_on = False  # whether the diagram is large enough to draw maps (else circles)
        self.map_n = MAP_GRID  # grid samples per axis of the next redraw (adapted to its cost)
        self.map_grid: tuple | None = None  # (xs, ys, per-column levels) the maps were drawn from
        self._map_side = (0.0, 0.0, 0.0)  # a map's width, height (view units) and side (px)
        self._in_side = (0.0, 0.0, 0.0)  # the same for an input tile (smaller when the column is squeezed)
        self.inputs_on = False  # whether the input tiles are drawn (else circles)
        self._framed: list[tuple[int, int]] = []
        self._hovered: tuple[int, int] | None = None
        self._cap: int | None = None  # neurons per column before it is squeezed: the maps it has room for
        self._shade: np.ndarray | None = None  # each neuron's bias as one of the 256 brushes
        self.labels: list[pg.TextItem] = []

        self.content = QtWidgets.QWidget()
        inner = QtWidgets.QVBoxLayout(self.content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(2)
        inner.addWidget(self.info)
        # The diagram, with a map in each neuron, gets two thirds of the height (the matrices are
        # small images; at 1280×720 the diagram had room for only 5 maps per column at 2 : 3).
        inner.addWidget(self.maps_view, 1)
        # ± layer above the diagram, ± neuron under each hidden column (TF Playground edits the
        # network where it draws it)
        self.buttons = NetworkButtons(self.net_view, self)
        self.buttons.hidden_changed.connect(self._hidden_changed)
        inner.addWidget(self.buttons.row)
        inner.addWidget(self.net_view, 2)
        inner.addWidget(self.legend)
        inner.addWidget(self.hover)
        self.stack = QtWidgets.QStackedLayout(self)
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.message)
        self.setMinimumSize(320, 200)
        self.maps: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self._shape: tuple | None = None  # (kind, layer count) the items were built for
        self.levels = (-1.0, 1.0)
        self.maps_view.scene().sigMouseMoved.connect(self._hover_maps)
        self.net_view.scene().sigMouseMoved.connect(self._hover_net)
        self.net_view.scene().sigMouseClicked.connect(self._clicked)
        self.maps_view.scene().sigMouseClicked.connect(self._clicked_maps)
        self.editor: ParamEditor | None = None  # the open "Set W2[3, 1]" dialog, if any
        self.net_view.installEventFilter(self)  # the mouse leaving the diagram: unit_hovered(None)
        self.net.vb.sigResized.connect(self._resized)
        self.reset()

    def mouse_readout(self) -> QtWidgets.QLabel:
        return self.hover

    # ------------------------------------------------------------------ structure
    def retheme(self) -> None:
        self._shape = None  # rebuild the theme-coloured items
        self._pen_edges()
        self.reset()

    def _pen_edges(self) -> None:
        """Each (sign, width class) curve's pen: the colour of the weight, its width |w|."""
        for i, curve in enumerate(self.edges):
            sign, k = (-1, 1)[i // N_WIDTHS], i % N_WIDTHS
            a = (k + 0.5) / N_WIDTHS  # |w| / max|w| at the class centre
            # weak edges fade into the background in both themes (opaque: theme.faint)
            color = faint(DIVERGING.mapToQColor(0.5 + 0.5 * sign * a), 0.35 + 0.65 * a, self.th)
            curve.setPen(pg.mkPen(color, width=0.6 + 3.4 * a))
            curve.setZValue(a)  # strong edges on top

    def reset(self) -> None:
        s = self.session
        self.hover.setText(HOVER_HINT)  # "W1[2,7] = …" of the last network is stale under this one
        self._set_hovered(None)
        self.map_n = MAP_GRID  # other sizes: the cost is measured anew
        shape = (s.kind, s.n_layers)
        if shape != self._shape:
            self._shape = shape
            self._build_maps(s.problem.n_layers)
        self.stack.setCurrentWidget(self.content if s.problem.has_layers else self.message)
        if s.problem.has_layers:
            self._layout_diagram()
            self._titles()
            self._shape_cells()  # new shapes in the same boxes
        super().reset()

    def _titles(self) -> None:
        # A title sets its column's minimum width, so with many layers the titles get shorter
        # (the shapes stay in the hover text and the diagram's headers) or the row overflows.
        n = len(self.maps)
        for i, (plot, W) in enumerate(zip(self.maps, self.session.model.W)):
            shape = f"({W.shape[0]}×{W.shape[1]})"
            text = f"W{i + 1} {shape}" if n <= 4 else f"W{i + 1}<br>{shape}" if n <= 6 else f"W{i + 1}"
            plot.setTitle(text, color=layer_color(i), size="9pt" if n <= 4 else "8pt")

    def _build_maps(self, n: int) -> None:
        self.maps_view.clear()
        self.maps, self.images = [], []
        for i in range(n):
            plot = self.maps_view.addPlot(row=0, col=i)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setAspectLocked(True)  # cells square, or stretched up to STRETCH (`_shape_cells`)
            plot.layout.setContentsMargins(0, 0, 0, 0)
            plot.titleLabel.setMaximumHeight(TITLE_PX)  # its default ~30 px left a 16×16 matrix 15 px
            plot.vb.sigResized.connect(self._shape_cells)
            plot.invertY(True)  # row 0 (the first input) on top, as the matrix is printed
            plot.setMouseEnabled(False, False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            img = pg.ImageItem(axisOrder="row-major")
            img.setColorMap(DIVERGING)
            plot.addItem(img)
            self.maps.append(plot)
            self.images.append(img)

    def _shape_cells(self) -> None:
        """Each heatmap's cells as close to its box's shape as STRETCH allows: square cells left a
        16×1 matrix a 1-px line and 16×16 a 15-px square in a 150×18 px box (Full, 1280×720)."""
        if self.session.model is None:
            return
        for plot, W in zip(self.maps, self.session.model.W):
            r = plot.vb.sceneBoundingRect()
            if r.width() < 2 or r.height() < 2:
                continue
            aspect = (r.width() / W.shape[1]) / (r.height() / W.shape[0])  # cell width / height, filling
            plot.setAspectLocked(True, ratio=float(np.clip(aspect, 1 / STRETCH, STRETCH)))

    def _layout_diagram(self) -> None:
        """Names, column headers and brushes for the current layer sizes; `_fit` places them."""
        s = self.session
        m = s.model
        self.buttons.set_hidden(list(m.hidden))
        self.edge_cap = min(EDGE_CAP, max(100, EDGE_BUDGET // m.n_layers))
        # the input column holds every candidate feature; W1's row r comes from slot in_slot[r]
        self.inputs = list(s.inputs)
        self.in_slot = np.array([features.NAMES.index(n) for n in self.inputs])
        self.active = np.isin(np.arange(len(features.NAMES)), self.in_slot)
        self.sizes = (len(features.NAMES), *m.hidden, m.n_out)
        self._layout_key = (tuple(self.inputs), *m.hidden, m.n_out)
        self._bias_brushes = [pg.mkBrush(c) for c in DIVERGING.mapToQColor(np.linspace(0, 1, 256))]
        self._input_brush = pg.mkBrush(self.th.muted)
        faded = pg.mkColor(self.th.muted)
        faded.setAlphaF(FADED)
        self._faded_brush = pg.mkBrush(faded)
        self._input_brushes = [self._input_brush if a else self._faded_brush for a in self.active]
        # behind an unused input's faded map: the background (its circle showed through)
        self._tile_brushes = [self._input_brush if a else pg.mkBrush(self.th.bg) for a in self.active]
        self._shade = None  # the bias shades of the last network do not fit this one
        for t in self.labels:
            self.net.removeItem(t)
        self.labels = []
        last = len(self.sizes) - 1
        for j, n in enumerate(self.sizes):
            head = "input" if j == 0 else "output" if j == last else f"layer {j} · {n}"
            self._label(head, COLUMN_GAP * j, 0.0, self._head_color(j), (0.5, 0.5))
        self.headers = self.labels[:]
        # "layer 1 · 16" on one line while the columns are wide enough, else the width under it
        self._head_one_px = max(t.textItem.boundingRect().width() for t in self.headers[1:-1]) if last > 1 else 0.0
        self._head_lines, self._head_px = 1, 18
        for name, on in zip(features.NAMES, self.active):
            self._label(features.LABELS[name], -0.35, 0.0, self.th.fg if on else self.th.muted, (1, 0.5))
        self.input_labels = self.labels[len(self.headers):]
        outs = (["ŷ"] if m.n_out == 1 else [f"class {c}" for c in range(m.n_out)])
        for name in outs:
            self._label(name, COLUMN_GAP * last, 0.0, self.th.fg, (0, 0.5))  # `_fit` sets x in pixels
        self.output_labels = self.labels[len(self.headers) + len(self.input_labels):]
        # Outlines would merge into a black bar in a very wide column.
        self.neurons.setPen(pg.mkPen(self.th.fg, width=1) if max(self.sizes) <= 32 else None)
        self._cap = None
        self._fit()

    def _head_color(self, j: int) -> str:
        return self.th.fg if j == 0 else layer_color(j - 1)  # column j is layer j's output

    def _set_head_lines(self, lines: int) -> None:
        """Hidden-layer headers on one line ("layer 1 · 16") or two ("layer 1" over "16")."""
        self._head_lines, self._head_px = lines, 18 if lines == 1 else 32
        sep = " · " if lines == 1 else "<br>"
        for j, (t, n) in enumerate(zip(self.headers[1:-1], self.sizes[1:-1]), start=1):
            color = self._head_color(j)
            t.setHtml(f"<div style='text-align:center;color:{color}'>layer {j}{sep}{n}</div>")
            t.textItem.setTextWidth(-1)
            t.textItem.setTextWidth(t.textItem.boundingRect().width())

    def _columns(self, cap: int) -> None:
        """Neuron positions with columns of more than `cap` neurons squeezed into cap − 1 spacings,
        and the map items: one ImageItem per shown neuron of the input and hidden columns, created
        here and updated with setImage. A column of up to `cap` neurons has a map on each; a wider
        one has `cap` maps one spacing apart over it, showing its strongest neurons."""
        self._cap = cap
        self.cols = [_column_y(n, cap) for n in self.sizes]
        self.xy = np.concatenate([np.column_stack([np.full(len(c), COLUMN_GAP * j), c])
                                  for j, c in enumerate(self.cols)])
        self._placed = False  # the neurons move to self.xy at the next redraw
        for t, y in zip(self.input_labels, self.cols[0]):
            t.setPos(t.pos().x(), y)
        for t, y in zip(self.output_labels, self.cols[-1]):
            t.setPos(t.pos().x(), y)
        for item in (i for col in self.map_items for i in col):
            self.net.removeItem(item)
        self.map_items, self.map_units, self.map_slots, self.map_rects = [], [], [], []
        self.map_grid = None
        for j, n in enumerate(self.sizes[:-1]):
            k = n if j == 0 else min(n, cap)  # every input feature has its tile (to click)
            items = []
            for _ in range(k):
                img = pg.ImageItem(axisOrder="row-major")  # row 0 = ys[0], the bottom of the plane
                img.setColorMap(PALE_DIVERGING)
                img.setZValue(7)
                img.setVisible(False)  # until it holds a map
                self.net.addItem(img)
                items.append(img)
            self.map_items.append(items)
            self.map_units.append(np.arange(k))
            self.map_slots.append(self.cols[j] if n <= cap or j == 0 else _column_y(cap, cap))
            self.map_rects.append([QtCore.QRectF() for _ in range(k)])
        self.frames.setData([], [])

    def _fit(self) -> bool:
        """Lay the columns out for the view's size and fit them to it, leaving margins in PIXELS
        above them for the headers and left of them for the input names (margins in data units
        would clip the text in a short panel and waste space in a tall one), then size and place
        the neuron maps. True when the neurons moved (the edges and maps must be redrawn).

        A map is MAP_FILL of the spacing of its slots, and the slots of a column are at least
        SLOT_PX apart: a short panel shows fewer maps per column (its strongest neurons) and
        squeezes its wider columns into their height; a map is also at most MAP_MAX_X units wide (so
        the edges between columns show) and MAP_MAX_PX. The view's aspect is free, so the side is
        computed in pixels. Below MIN_MAP_PX (a narrow panel of a deep net) the maps give way to
        the plain circles, laid out as without maps."""
        vb = self.net.vb
        height = vb.height() if vb.height() > 60 else 200.0
        width = vb.width() if vb.width() > 60 else 300.0
        top_px, bottom_px = self._head_px + 16, BUTTONS_PX  # under the columns: their ± buttons
        usable = height - top_px - bottom_px
        span = COLUMN_GAP * (len(self.sizes) - 1)
        # room right of the outputs for their names ("class 3" was cut at the view's edge), in pixels
        out_px = max(t.textItem.boundingRect().width() for t in self.output_labels) + OUT_GAP_PX + 4
        slots = min(MAP_COLUMN_MAX, int(usable / SLOT_PX - MAP_FILL + 1))  # (k − 1 + fill) slots fit
        old_cap, side = self._cap, 0.0
        if slots >= 2:  # the two inputs at least
            if slots != self._cap:
                self._columns(slots)
            half = max(0.5, max(c[0] for c in self.cols))
            # the y scale with room for half a map (MAP_FILL / 2 spacings) above and below
            u = (2 * half + MAP_FILL) / usable  # data units per pixel, y
            side = min(MAP_FILL / u, MAP_MAX_PX)
            # "sin x₁" (network.inputs) is wider than "x₁": clipped at the view's left edge
            label_px = max([LABEL_PX] + [t.textItem.boundingRect().width() + 8 for t in self.input_labels])
            for _ in range(3):  # the margins and the map side depend on each other; this converges
                a = side / 2 + label_px
                ux = span / max(width - a - out_px, 1.0)  # data units per pixel, x
                left = a * ux
                side = float(min(side, MAP_MAX_X / ux))
        self.maps_on = bool(side >= MIN_MAP_PX)
        if not self.maps_on:
            if self._cap != MAP_COLUMN_MAX:
                self._columns(MAP_COLUMN_MAX)
            half = max(0.5, max(c[0] for c in self.cols))
            u = 2 * half / usable
            left, ux = 1.2, (1.2 + span) / max(width - out_px, 1.0)
        if self._head_one_px:  # headers wider than their column's spacing were printed over each other
            lines = 1 if self._head_one_px <= COLUMN_GAP / ux - 8 else 2
            if lines != self._head_lines:
                self._set_head_lines(lines)
                return self._fit() or self._cap != old_cap  # top_px changed: lay out again (ux stays)
        right = span + out_px * ux
        for t in self.output_labels:
            t.setPos(span + OUT_GAP_PX * ux, t.pos().y())
        map_half = side / 2 * u if self.maps_on else 0.0
        for t in self.headers:
            t.setPos(t.pos().x(), half + map_half + (10 + self._head_px / 2) * u)
        # The nine input tiles share their column's height: squeezed, they are smaller than the maps
        n_in = len(self.cols[0])
        even = _column_y(n_in, self._cap or MAP_COLUMN_MAX)
        tight = bool((even[0] - even[1]) / u < MIN_LABEL_GAP_PX)
        self._place_inputs(_input_y(self.active, even[0] - even[-1]) if tight else even)
        gap = float(np.min(-np.diff(self.cols[0])))  # the closest two input slots (view units)
        in_side = min(side, gap * MAP_FILL / u) if self.maps_on else 0.0
        self.inputs_on = bool(in_side >= MIN_INPUT_PX)
        # 4 px left of the input maps, or of the circles (-0.35 units was ~70 px off in a net with no
        # hidden layer, and its names were cut at the view's edge)
        label_x = -((in_side if self.inputs_on else MAX_DOT_PX) / 2 + 4) * ux
        # Close slots name only the used inputs, and of those no two within MIN_LABEL_GAP_PX (x₁ and
        # x₂ were printed over one another); hovering names every input.
        last = math.inf
        for t, on, y in zip(self.input_labels, self.active, self.cols[0]):
            t.setPos(label_x, y)
            named = bool(not tight or (on and (last - y) / u >= MIN_LABEL_GAP_PX))
            t.setVisible(named)
            last = y if named else last
        self.net.setRange(xRange=(-left, right),
                          yRange=(-half - map_half - bottom_px * u, half + map_half + top_px * u), padding=0)
        xs = [self.net_view.mapFromScene(vb.mapViewToScene(QtCore.QPointF(COLUMN_GAP * j, 0.0))).x()
              for j in range(1, len(self.sizes) - 1)]
        self.buttons.place(xs, self.net_view.height() - BUTTONS_PX + 2, visible=not self._locked())
        self._map_side = (side * ux, side * u, side)
        self._in_side = (in_side * ux, in_side * u, in_side)
        self._place_maps()
        return self._cap != old_cap

    def _place_inputs(self, ys: np.ndarray) -> None:
        """Move the input column's slots (neurons, tiles, names follow) to heights `ys`."""
        if np.array_equal(ys, self.cols[0]):
            return
        self.cols[0] = ys
        self.xy[:len(ys), 1] = ys
        self.map_slots[0] = ys
        self._placed = False  # the neurons and edges move at the next redraw

    def _place_maps(self) -> None:
        """Map rectangles (pixel centres on the plane's sample points do not matter at this size:
        each map spans its square) and their frames; hidden when the diagram is too small."""
        pos, sizes = [], []
        self._framed: list[tuple[int, int]] = []  # (column, map) of each frame, in order
        for j, (items, slots) in enumerate(zip(self.map_items, self.map_slots)):
            w, h, side = self._in_side if j == 0 else self._map_side
            shown = self.inputs_on if j == 0 else self.maps_on
            for k, (img, y) in enumerate(zip(items, slots)):
                rect = self.map_rects[j][k] = QtCore.QRectF(COLUMN_GAP * j - w / 2, y - h / 2, w, h)
                if img.image is not None:  # (setRect scales by the image's size: again after setImage)
                    img.setRect(rect)
                img.setVisible(shown)
                if j == 0:
                    img.setOpacity(1.0 if self.active[k] else FADED)  # an unused input, faded
                if shown:
                    pos.append((COLUMN_GAP * j, y))
                    sizes.append(side + RING_PX)
                    self._framed.append((j, k))
        if self.maps_on:
            self.frames.setData(pos=pos, size=np.array(sizes), pen=pg.mkPen(self.th.fg, width=1))
            self._frame_brushes()
        else:
            self.frames.setData([], [])
        if self.hover.text() in (HOVER_HINT, SMALL_HINT):
            self.hover.setText(HOVER_HINT if self.maps_on else SMALL_HINT)

    def _label(self, text: str, x: float, y: float, color: str, anchor: tuple) -> None:
        t = pg.TextItem(color=color, anchor=anchor)
        t.setHtml(f"<div style='text-align:center;color:{color}'>{text.replace(chr(10), '<br>')}</div>")
        t.textItem.setTextWidth(t.textItem.boundingRect().width())  # lets the centring apply
        t.setPos(x, y)
        self.net.addItem(t)
        self.labels.append(t)

    # ------------------------------------------------------------------ refresh
    def _locked(self) -> bool:
        """Classroom mode hides the network: its ± buttons go, and clicks change nothing."""
        locked = self.hidden_from_students("network")
        if self.buttons.row.isHidden() != locked:
            self.buttons.row.setVisible(not locked)
            for pair in self.buttons.columns:
                for b in pair:
                    b.setVisible(not locked)
        return locked

    def refresh(self) -> None:
        s = self.session
        if not s.problem.has_layers:
            return
        self._locked()
        m = s.model
        if (self._shape != (s.kind, s.n_layers)
                or getattr(self, "_layout_key", None) != (tuple(s.inputs), *m.hidden, m.n_out)):
            # another network than the diagram was laid out for (a resize can come before the
            # window's reset): lay it out first (drawing the old one raised IndexError)
            self.reset()
            return
        if not self.due():  # weights move slowly: redraw at the throttled rate
            return
        self.levels = symmetric_levels(*m.W, *m.b)
        for img, W in zip(self.images, m.W):
            img.setImage(drawable(W), autoLevels=False, levels=self.levels)
        self._draw_edges()
        if self.maps_on:
            self._draw_unit_maps()
        self.legend.set_range(*self.levels)
        self.info.setText(f"<b>step {s.step}</b> · one colour range ±{fmt(self.levels[1])} for all layers · "
                          f"rows = inputs, columns = neurons" + self._capped_note() + self._maps_note())

    def _draw_unit_maps(self) -> None:
        """Each shown neuron's output over the input plane, on the pale diverging scale (the decision
        map's), with one colour range per layer (`unit_maps.map_levels`: tanh ±1, sigmoid 0…1, inputs
        and unbounded activations ± the layer's largest |output|)."""
        m = self.session.model
        n = self.map_n
        t = time.perf_counter()
        xs, ys, layers = unit_maps.unit_grids(self.session, n)
        # the input column: every candidate feature over the same plane (W1 sees the active ones)
        layers[0] = unit_maps.feature_grids(self.session.data.info.view, n)[2]
        took = time.perf_counter() - t
        # the cost grows with n²: aim the next pass at MAP_SECONDS (as the decision map does)
        self.map_n = int(np.clip(n * math.sqrt(MAP_SECONDS / max(took, 1e-6)), MIN_MAP_GRID, MAP_GRID))
        levels: list = []
        for j, (items, A) in enumerate(zip(self.map_items, layers)):
            if j == 0:  # each feature on its own range (x₁² would leave x₁ pale on a shared one)
                lv0 = [unit_maps.map_levels("linear", 0, A[:, :, k]) for k in range(A.shape[2])]
                for img, k, rect in zip(items, range(A.shape[2]), self.map_rects[0]):
                    self._set_map(img, A[:, :, k], lv0[k], rect)
                levels.append(lv0)
                continue
            if len(items) < A.shape[2]:  # a wide layer: its strongest neurons (largest outgoing |w|)
                strength = np.nan_to_num(np.abs(m.W[j]), nan=0.0, posinf=1e300).sum(axis=1)
                units = np.sort(np.argsort(-strength, kind="stable")[:len(items)])
            else:
                units = np.arange(A.shape[2])
            self.map_units[j] = units
            lv = unit_maps.map_levels(m.unit_activation(j), j, A)
            levels.append(lv)
            for img, u, rect in zip(items, units, self.map_rects[j]):
                self._set_map(img, A[:, :, u], lv, rect)
        self.map_grid = (xs, ys, levels)
        self._frame_brushes()

    @staticmethod
    def _set_map(img: pg.ImageItem, Z: np.ndarray, lv: tuple[float, float], rect: QtCore.QRectF) -> None:
        reshaped = img.image is None or img.image.shape != Z.shape
        # clipped to the levels: an overflowed unit (inf) against a tiny range overflowed
        # pyqtgraph's rescale (a RuntimeWarning in the terminal)
        img.setImage(np.clip(drawable(Z), *lv), autoLevels=False, levels=lv)
        if reshaped:  # its transform scales the image's pixels to the map's square
            img.setRect(rect)

    def _frame_brushes(self) -> None:
        """The maps' frames in their neurons' bias colours (the inputs, which have none, muted)."""
        shade = self._shade
        if not self.maps_on or shade is None or not len(self.frames.data):
            return
        starts = np.cumsum((0,) + self.sizes)
        brushes = [self._tile_brushes[k] if j == 0 else
                   self._bias_brushes[shade[starts[j] + self.map_units[j][k] - self.sizes[0]]]
                   for j, k in self._framed]
        self.frames.setBrush(brushes)

    def _maps_note(self) -> str:
        if not self.maps_on:
            return " · neuron maps hidden (too small)"
        cap = self._cap or MAP_COLUMN_MAX
        wide = sorted({n for n in self.sizes[1:-1] if n > cap})
        if not wide:
            return ""
        return (f" · maps: {cap} of {' / '.join(map(str, wide))} neurons shown, the strongest "
                f"(largest outgoing |w|)")

    def _draw_edges(self) -> None:
        m, top = self.session.model, self.levels[1]
        segs: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in self.edges]
        for li, W in enumerate(m.W):
            w = drawable(W).ravel()
            idx = self._drawn(w)
            i, j = np.divmod(idx, W.shape[1])
            x = np.repeat([[COLUMN_GAP * li, COLUMN_GAP * (li + 1)]], len(idx), axis=0).ravel()
            rows = self.in_slot[i] if li == 0 else i  # W1's row r leaves its feature's slot
            y = np.column_stack([self.cols[li][rows], self.cols[li + 1][j]]).ravel()
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
        shade = self._shade = np.clip(np.rint((b - lo) / (hi - lo) * 255), 0, 255).astype(int)
        brushes = self._input_brushes + [self._bias_brushes[k] for k in shade]  # inputs: no bias
        if self._placed:
            self.neurons.setBrush(brushes)
        else:
            self.neurons.setData(pos=self.xy, brush=brushes, size=self._neuron_size())
            self._placed = True

    def _drawn(self, w: np.ndarray) -> np.ndarray:
        """Indices of the weights (of one flattened layer) the diagram draws: all, or the edge_cap strongest."""
        cap = self.edge_cap
        return np.argpartition(np.abs(w), -cap)[-cap:] if w.size > cap else np.arange(w.size)

    def _neuron_size(self) -> np.ndarray:
        """Circles as large as their column's spacing allows on screen (14 px at most, 3 px at least):
        the output neuron of a net with a squeezed 256-wide column stays a readable circle."""
        px = self.net.vb.viewPixelSize()[1] or 1.0
        gaps = [float(np.min(-np.diff(c))) if len(c) > 1 else 1.0 for c in self.cols]
        return np.concatenate([np.full(len(c), np.clip(0.8 * g / px, 3.0, MAX_DOT_PX))
                               for c, g in zip(self.cols, gaps)])

    def _resized(self) -> None:
        if self.session.problem.has_layers and hasattr(self, "cols"):
            was_on = self.maps_on
            moved = self._fit()
            if len(self.neurons.data):
                self.neurons.setSize(self._neuron_size())
            if moved or (self.maps_on and not was_on):  # redraw now, not at the next step (paused)
                self.make_due()
                self.refresh()
            elif not self._placed and len(self.neurons.data):
                # only the inputs moved (squeezed or not): their edges and circles, not a whole
                # refresh, whose new note could change the panel's height and squeeze them back
                # (an export at 333x251 went on resizing forever)
                self._draw_edges()

    def _hidden_changed(self, hidden: list[int]) -> None:
        """A ± button proposes new hidden widths: the controller rebuilds the run with them."""
        cfg = self.session.config
        try:
            self.holder.apply_config(config_mod.with_hidden(cfg, hidden))
        except config_mod.ConfigError as e:  # e.g. batch norm needs a hidden layer
            self.hover.setText(f"Cannot change the layers: {e}")

    def _clicked(self, event) -> None:
        """A click on an input's tile (or circle) adds that feature to the inputs or removes it; on a
        neuron it sets the neuron's bias, on an edge its weight (TF Playground's edit by click)."""
        left = event.button() == QtCore.Qt.MouseButton.LeftButton
        if not self.session.problem.has_layers or not hasattr(self, "cols") or not left or self._locked():
            return
        p = self.net.vb.mapSceneToView(event.scenePos())
        hit = self._unit_at(p.x(), p.y())
        if hit is not None and hit[0] == 0:
            event.accept()
            self.toggle_input(features.NAMES[hit[1]])
        elif hit is not None:
            event.accept()
            self.edit_param(f"b{hit[0]}", (hit[1],))
        elif (edge := self._edge_at(p.x(), p.y())) is not None:
            event.accept()
            self.edit_param(f"W{edge[0] + 1}", edge[1:])

    def _clicked_maps(self, event) -> None:
        """A click on a cell of a weight heatmap sets that weight."""
        if not self.session.problem.has_layers or event.button() != QtCore.Qt.MouseButton.LeftButton or self._locked():
            return
        cell = self._cell_at(event.scenePos())
        if cell is not None:
            event.accept()
            self.edit_param(f"W{cell[0] + 1}", cell[1:])

    def _cell_at(self, pos: QtCore.QPointF) -> tuple[int, int, int] | None:
        """(layer, row, column) of the weight heatmap cell under scene point `pos`."""
        for li, (plot, W) in enumerate(zip(self.maps, self.session.model.W)):
            if plot.vb.sceneBoundingRect().contains(pos):
                p = plot.vb.mapSceneToView(pos)
                r, c = int(np.floor(p.y())), int(np.floor(p.x()))
                return (li, r, c) if 0 <= r < W.shape[0] and 0 <= c < W.shape[1] else None
        return None

    def _edge_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(layer, row, column) of the drawn edge nearest the view point (x, y), if one passes within
        EDGE_PICK_PX pixels of it (edges left out of a capped layer cannot be picked: not drawn)."""
        li = int(np.floor(x / COLUMN_GAP))
        m = self.session.model
        if not 0 <= li < len(m.W):
            return None
        W = m.W[li]
        i, j = np.divmod(self._drawn(drawable(W).ravel()), W.shape[1])
        y0 = self.cols[li][self.in_slot[i] if li == 0 else i]
        y1 = self.cols[li + 1][j]
        sx, sy = self.net.vb.viewPixelSize()
        if not (sx and sy):
            return None
        t = (x - COLUMN_GAP * li) / COLUMN_GAP
        slope = ((y1 - y0) / sy) / (COLUMN_GAP / sx)  # pixels up per pixel across
        dist = np.abs((y - (y0 + t * (y1 - y0))) / sy) / np.sqrt(1.0 + slope ** 2)  # to each line, in px
        k = int(np.argmin(dist))
        return (li, int(i[k]), int(j[k])) if dist[k] <= EDGE_PICK_PX else None

    def param_text(self, name: str, index: tuple[int, ...]) -> tuple[str, str]:
        """("W2[3, 1]", "from neuron 3 of layer 1 to neuron 1 of layer 2") as the window names a
        parameter: rows and columns count from 1 (the timeline key counts from 0, as numpy does)."""
        m = self.session.model
        layer = int(name[1:])
        last = layer == len(m.W)

        def unit(k: int) -> str:  # unit k (from 0) of this parameter's layer
            if last:
                return "the output" if m.n_out == 1 else f"output {k + 1} (class {k})"
            return f"neuron {k + 1} of layer {layer}"

        if name[0] == "b":
            return f"b{layer}[{index[0] + 1}]", f"bias of {unit(index[0])}"
        r, c = index
        src = f"input {self.input_label(r)}" if layer == 1 else f"neuron {r + 1} of layer {layer - 1}"
        return f"W{layer}[{r + 1}, {c + 1}]", f"weight from {src} to {unit(c)}"

    def edit_param(self, name: str, index: tuple[int, ...]) -> ParamEditor:
        """Open the dialog that sets parameter `name` ("W2", "b1") at `index` (from 0) by hand."""
        title, detail = self.param_text(name, index)
        value = float(self.session.model.params()[name][index])
        key = timeline.param_key(name, index)

        def apply(v: float) -> str | None:
            try:
                self.holder.edit_param(name, index, v)
            except config_mod.ConfigError as e:
                return str(e)
            self.hover.setText(f"{title} set to {fmt(v)} at step {self.session.step:,} (on the timeline as {key})")
            return None

        if self.editor is not None:
            self.editor.close()
        self.editor = ParamEditor(title, f"{detail}<br>step {self.session.step:,}", value, apply, self)
        self.editor.open()
        return self.editor

    def toggle_input(self, name: str) -> None:
        """Use feature `name` as an input or stop using it: the controller rebuilds the run with
        the new `network.inputs` (as the ± buttons do with the widths). The last input stays."""
        inputs = list(self.session.inputs)
        if name in inputs:
            if len(inputs) == 1:
                self.hover.setText(f"Cannot remove {features.LABELS[name]}: the network needs at least one "
                                   f"input (add another first)")
                return
            inputs.remove(name)
        else:
            inputs.append(name)
        cfg = self.session.config
        try:
            self.holder.apply_config(config_mod.with_changes(cfg, network={"inputs": features.ordered(inputs)}))
        except config_mod.ConfigError as e:
            self.hover.setText(f"Cannot change the inputs: {e}")

    def _capped_note(self) -> str:
        big = [f"W{li + 1}" for li, W in enumerate(self.session.model.W) if W.size > self.edge_cap]
        if not big:
            return ""
        return f" · diagram: only the {self.edge_cap} strongest edges of {', '.join(big)}"

    # ------------------------------------------------------------------ hover
    def _hover_maps(self, pos: QtCore.QPointF) -> None:
        if not self.session.problem.has_layers:
            return
        cell = self._cell_at(pos)
        if cell is not None:
            self._say_weight(*cell)

    def _say_weight(self, li: int, r: int, c: int) -> None:
        title, detail = self.param_text(f"W{li + 1}", (r, c))
        self.hover.setText(f"{title} = {fmt(self.session.model.W[li][r, c])}  ({detail}) · click to set it")

    def _unit_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(column, neuron) under the view point (x, y): a map (its whole square), else a circle."""
        if self.maps_on:
            j = int(round(x / COLUMN_GAP))
            w, h, _ = self._in_side if j == 0 else self._map_side
            if 0 <= j < len(self.map_items) and (j > 0 or self.inputs_on) and abs(x - COLUMN_GAP * j) <= w / 2:
                k = np.flatnonzero(np.abs(self.map_slots[j] - y) <= h / 2)
                if len(k):
                    return j, int(self.map_units[j][k[0]])
        hit = self.neurons.pointsAt(QtCore.QPointF(x, y))
        if len(hit) == 0:
            return None
        k = int(hit[0].index())
        starts = np.cumsum((0,) + self.sizes)
        col = int(np.searchsorted(starts, k, side="right") - 1)
        return col, int(k - starts[col])

    def _hover_net(self, pos: QtCore.QPointF) -> None:
        if not self.session.problem.has_layers or not hasattr(self, "cols"):
            return
        if not self.net.vb.sceneBoundingRect().contains(pos):
            self._set_hovered(None)
            return
        p = self.net.vb.mapSceneToView(pos)
        hit = self._unit_at(p.x(), p.y())
        if hit is None:
            self._set_hovered(None)
            if (edge := self._edge_at(p.x(), p.y())) is not None:
                self._say_weight(*edge)
            return
        col, i = hit
        if col == 0:
            name = features.NAMES[i]
            used = bool(self.active[i])
            self.hover.setText(f"input {features.LABELS[name]} · "
                               f"{'used: click to remove it' if used else 'not used: click to add it'}")
            # the Landscape's unit map counts the used inputs only
            self._set_hovered((0, self.inputs.index(name)) if used else None)
            return
        title, detail = self.param_text(f"b{col}", (i,))
        self.hover.setText(f"{title} = {fmt(self.session.model.b[col - 1][i])}  ({detail}) · click to set it")
        self._set_hovered(hit if col < len(self.sizes) - 1 else None)  # outputs: the Landscape's map

    def _set_hovered(self, unit: tuple[int, int] | None) -> None:
        """Emit unit_hovered when the neuron under the mouse changes (not at every mouse move)."""
        if unit != self._hovered:
            self._hovered = unit
            self.unit_hovered.emit(unit)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt override)
        if obj is getattr(self, "net_view", None) and event.type() == QtCore.QEvent.Type.Leave:
            self._set_hovered(None)
        return super().eventFilter(obj, event)

    # ------------------------------------------------------------------ maps for others
    def unit_map(self, layer: int, unit: int, n: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The full-size map of one neuron, as `unit_hovered` names it: xs (n,), ys (n,) over the
        data's view plane and Z (n, n) with Z[j, i] its output at (xs[i], ys[j]); layer 0 is the
        used inputs (unit i: session.inputs[i]), 1.. the hidden layers. Draw it with `unit_map_levels(layer, Z)`."""
        s = self.session
        if not s.problem.has_layers or s.model is None:
            raise ValueError("unit maps exist only for dataset tasks")
        sizes = (s.model.n_in, *s.model.hidden)
        if not (0 <= layer < len(sizes) and 0 <= unit < sizes[layer]):
            raise ValueError(f"no unit ({layer}, {unit}) in a net with input and hidden widths {sizes}")
        xs, ys, layers = unit_maps.unit_grids(s, n)
        return xs, ys, layers[layer][:, :, unit]

    def unit_map_levels(self, layer: int, Z: np.ndarray) -> tuple[float, float]:
        """The colour range the diagram uses for a map of this layer (for a bounded activation the
        same as in the diagram; else ± the largest |value| of Z)."""
        return unit_maps.map_levels(self.session.model.unit_activation(layer), layer, Z)
