"""The input plane: a landscape f(x, y) with the optimizer's path, or a dataset under the model's output.

Function tasks: f as a filled heatmap with contour lines, the trajectory, the current point and the
negative gradient there (the direction a step of gradient descent takes), minima (★) and saddles (✕).
The aspect ratio is locked so the gradient is drawn perpendicular to the contours, as it truly is.
Clicking the map restarts the run from the clicked point.

Dataset tasks: the model's output over the input plane on the diverging scale (TF Playground's
decision map) with train points (white edge) and test points (dark edge), redrawn at a throttled rate.
A large set is drawn as a class-stratified sample (`point_sample`), and the line over the map says so.

Over the map, never on it: TF Playground's large counter (epoch and step; a landscape's step) and a
small curve of the train and test loss (a landscape's f), both read from the session on each refresh.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ...core import own_data, unit_maps
from ...core.datasets import MAX_OWN_CLASSES
from ..colors import CLASS_COLORS, DIVERGING, PALE_DIVERGING, SEQUENTIAL, ZERO, class_index, pale
from ..legends import ColorLegend
from ..levels import drawable, symmetric_levels
from ..number_format import fmt
from ..plotting import apply_plot_style, axes
from ..point_sample import MAX_TEST_DRAWN, MAX_TRAIN_DRAWN, priority, stratified_sample
from ..widgets.counter import Counter
from ..widgets.sparkline import Sparkline
from .base import Panel, SessionHolder

GRID = 200  # landscape samples per axis (computed once per reset)
OUT_GRID = 80  # model-output samples per axis (recomputed at the throttled rate)...
MIN_GRID = 32  # ...fewer when one pass costs more than GRID_SECONDS (a 256-wide, 8-layer net: 150 ms)
GRID_SECONDS = 0.03
N_CONTOURS = 12
MIN_COLOR, SADDLE_COLOR, ARROW_COLOR = "#ffd60a", "#ffffff", "#ff2d55"


def _rect(xs: np.ndarray, ys: np.ndarray) -> QtCore.QRectF:
    """Image rectangle whose pixel centres sit on the sample points."""
    dx, dy = (xs[-1] - xs[0]) / (len(xs) - 1), (ys[-1] - ys[0]) / (len(ys) - 1)
    return QtCore.QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))


DRAW_MARGIN = 10  # views around the view that a diverging path is drawn into before it is cut
FAR_BOXES = 1e5   # segments with an end farther than this many boxes away are not drawn


def _inside(x: float, y: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= x <= box[1] and box[2] <= y <= box[3]


def clip_path(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]
              ) -> tuple[np.ndarray, np.ndarray]:
    """The polyline (x, y) cut to `box` (x0, x1, y0, y1): each segment that leaves it is cut at its
    edge (Liang-Barsky), pieces separated by NaN (draw with connect="finite").

    A diverging path reaches 1e23 and beyond; handed to Qt it wiped the whole plot (the path, the
    surface), turned the start marker into a white square, and pyqtgraph warned of overflow.
    Segments with an end more than FAR_BOXES boxes away are left out: where the box lies, float64
    can place them only to ~|end| × 2e-16 (at 1e17, tens of units), while nearer ends are exact to
    ~1e-10 of the box."""
    x0, x1, y0, y1 = box
    if len(x) < 2 or bool(np.all((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))):
        return x, y
    ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
    far = FAR_BOXES * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    with np.errstate(all="ignore"):
        dx, dy = bx - ax, by - ay
        t0, t1 = np.zeros_like(ax), np.ones_like(ax)
        out = ~(np.isfinite(dx) & np.isfinite(dy))
        out |= np.maximum.reduce([abs(ax - cx), abs(bx - cx), abs(ay - cy), abs(by - cy)]) > far
        for p, q in ((-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)):
            parallel = p == 0
            out |= parallel & (q < 0)
            r = np.divide(q, p, out=np.zeros_like(q), where=~parallel)
            t0 = np.where(~parallel & (p < 0), np.maximum(t0, r), t0)
            t1 = np.where(~parallel & (p > 0), np.minimum(t1, r), t1)
        keep = ~out & (t0 <= t1)
        px = np.clip(np.column_stack([ax + t0 * dx, ax + t1 * dx]), x0, x1)  # (rounding at the edge)
        py = np.clip(np.column_stack([ay + t0 * dy, ay + t1 * dy]), y0, y1)
        gap = np.full((len(ax), 1), np.nan)
        px, py = np.hstack([px, gap])[keep], np.hstack([py, gap])[keep]
    return px.ravel(), py.ravel()


FILL_LIMIT = 3.0  # a map is drawn at most this many of its own widths beyond each side (zoomed far out)


EDIT_TIP = ("Editing points: left click adds class 0 (or the chosen class or target), right click adds "
            "class 1, Shift+click removes the nearest point. Training restarts with each change.")
# Of a large set only a sample is drawn (point_sample); Shift+click removes the nearest point of the
# data, drawn or not: the data is what is edited, and the sample is only its picture.

class ViewFill(QtCore.QObject):
    """Keeps a map covering everything its aspect-locked plot shows.

    Equal scales on x and y leave the plot wider (or taller) than the map's own square range; the
    map was drawn only over that range, with blank bands beside it (x axis −2.5…2.5 around a
    −1.5…1.5 map). Now the visible range, at least the map's own, is what gets evaluated, and a
    resize or zoom that shows more redraws it (a landscape's f and a network's output are defined
    everywhere). The owner connects `redraw` and draws over `take()`, the box (x0, x1, y0, y1).
    """

    redraw = QtCore.Signal()  # the plot shows more (or other) than the map covers: draw over take()

    def __init__(self, plot: pg.PlotItem, parent: QtCore.QObject) -> None:
        # A QObject child of the panel, which it tells through a signal: holding the panel's bound
        # method made a reference cycle whose late collection segfaulted a later test's event loop.
        super().__init__(parent)
        self.plot = plot
        self.base: tuple[float, float, float, float] | None = None
        self.drawn: tuple[float, float, float, float] | None = None
        plot.vb.sigRangeChanged.connect(self._changed)

    def set_base(self, base: tuple[float, float, float, float]) -> None:
        """The map's own range; the plot shows it, and what the plot's shape adds around it."""
        self.base, self.drawn = tuple(map(float, base)), None  # type: ignore[assignment]
        self.plot.setRange(xRange=base[:2], yRange=base[2:], padding=0)

    def box(self) -> tuple[float, float, float, float]:
        """The visible range, extended to the base range, at most FILL_LIMIT base sizes beyond it."""
        assert self.base is not None
        bx0, bx1, by0, by1 = self.base
        (vx0, vx1), (vy0, vy1) = self.plot.vb.viewRange()
        w, h = bx1 - bx0, by1 - by0
        return (max(min(vx0, bx0), bx0 - FILL_LIMIT * w), min(max(vx1, bx1), bx1 + FILL_LIMIT * w),
                max(min(vy0, by0), by0 - FILL_LIMIT * h), min(max(vy1, by1), by1 + FILL_LIMIT * h))

    def take(self) -> tuple[float, float, float, float]:
        """The box to draw the map over now, recorded as the one drawn."""
        self.drawn = self.box()
        return self.drawn

    def shape(self, n: int, box: tuple[float, float, float, float]) -> tuple[int, int]:
        """Samples (nx, ny) over `box` at the density of n samples across the base range."""
        assert self.base is not None
        bx0, bx1, by0, by1 = self.base
        return (max(2, round(n * (box[1] - box[0]) / (bx1 - bx0))),
                max(2, round(n * (box[3] - box[2]) / (by1 - by0))))

    def _changed(self, *_) -> None:
        if self.base is None:
            return
        box = self.box()
        tol = 1e-6 * (self.base[1] - self.base[0])
        if self.drawn is None or max(abs(a - b) for a, b in zip(box, self.drawn)) > tol:
            self.redraw.emit()


def draw_surface(img: pg.ImageItem, contours: list, land, grid: tuple | None = None,
                 levels: tuple[float, float] | None = None) -> tuple[float, float]:
    """Fill `img` with f over the landscape's view (log colour when it asks for it) and place the
    contour lines at evenly spaced levels; `grid` is land.grid(GRID, GRID) if the caller has it, or
    a grid over a wider box. `levels`: the colour range (lo, hi), by default that of the grid.
    Returns the colour levels (lo, hi)."""
    xs, ys, Z = land.grid(GRID, GRID) if grid is None else grid
    with np.errstate(all="ignore"):
        D = np.log1p(np.maximum(Z - land.fmin, 0.0)) if land.log_color else Z
    fin = np.isfinite(D)
    if levels is None:
        lo, hi = (float(D[fin].min()), float(D[fin].max())) if fin.any() else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1.0
    else:
        lo, hi = levels
    D = np.where(fin, np.clip(D, lo, hi), hi)  # overflowed corners take the top colour, not break the levels
    img.setColorMap(SEQUENTIAL)
    img.setImage(D, autoLevels=False, levels=(lo, hi))
    img.setRect(_rect(xs, ys))
    for k, iso in enumerate(contours):
        iso.setData(D, lo + (hi - lo) * (k + 0.5) / N_CONTOURS)
    return lo, hi


class LandscapePanel(Panel):
    """The loss surface with the optimizer's path (landscapes) or the model's decision map (datasets)."""

    title = "Landscape"
    name = "landscape"

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.info = self.summary_label()
        self.hover = QtWidgets.QLabel(" ")
        self.legend = ColorLegend()
        self.view = pg.GraphicsLayoutWidget()
        # bilinear scaling of the map's grid (32-80 cells a side), which drawn as blocks looked pixelated
        self.view.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
        self.plot = self.view.addPlot(row=0, col=0, axisItems=axes())
        self.plot.setAspectLocked(True)  # equal scales: ∇f is visibly perpendicular to the contours
        self.plot.setMenuEnabled(False)
        self.bar = pg.ColorBarItem(colorMap=SEQUENTIAL, interactive=False, width=12, colorMapMenu=False)

        self.img = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.img)
        # Function items
        self.contours = [pg.IsocurveItem(level=0, pen=pg.mkPen(255, 255, 255, 90), axisOrder="row-major")
                         for _ in range(N_CONTOURS)]
        for iso in self.contours:
            iso.setParentItem(self.img)  # inherits the image's rect, so it is drawn in (x, y) units
        shadow = pg.mkPen(0, 0, 0, 140, width=4)
        self.path_shadow = pg.PlotCurveItem(pen=shadow)
        self.path = pg.PlotCurveItem(pen=pg.mkPen("w", width=2))
        self.start = pg.ScatterPlotItem(size=9, brush=None, pen=pg.mkPen("w", width=2))
        self.point = pg.ScatterPlotItem(size=11, brush=pg.mkBrush("w"), pen=pg.mkPen("k", width=1.5))
        self.arrow_line = pg.PlotCurveItem(pen=pg.mkPen(ARROW_COLOR, width=3))
        self.arrow_head = pg.ArrowItem(headLen=11, tipAngle=35, pen=pg.mkPen(ARROW_COLOR), brush=ARROW_COLOR)
        self.minima = pg.ScatterPlotItem(symbol="star", size=18, brush=MIN_COLOR, pen=pg.mkPen("k", width=1))
        self.saddles = pg.ScatterPlotItem(symbol="x", size=14, brush=SADDLE_COLOR, pen=pg.mkPen("k", width=1))
        self.function_items = [self.minima, self.saddles, self.path_shadow, self.path, self.start, self.arrow_line,
                               self.arrow_head, self.point]
        # Dataset items
        self.train_pts = pg.ScatterPlotItem(size=7)
        self.test_pts = pg.ScatterPlotItem(size=7)
        # The batch of the step just taken, ringed when steps come one at a time (→, slow motion):
        # which points pulled the boundary this step
        self.batch_ring = pg.ScatterPlotItem(size=14, brush=None)
        self.dataset_items = [self.train_pts, self.test_pts, self.batch_ring]
        self._ringed_after = -1  # the step whose batch is ringed
        self.drawn_train = self.drawn_test = np.arange(0)  # indices of the points drawn (_point_colors)
        for z, item in enumerate(self.function_items + self.dataset_items):
            item.setZValue(10 + z)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(2)
        # Over the map: the counter, and beside it the loss curve over the line about the points
        # (the line beside the curve was ~120 px wide at 1280×720 and wrapped to five lines)
        self.counter = Counter()
        self.sparkline = Sparkline()
        head = QtWidgets.QGridLayout()
        head.setHorizontalSpacing(12)
        head.setVerticalSpacing(0)
        head.addWidget(self.counter, 0, 0, 2, 1, QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        head.addWidget(self.sparkline, 0, 1, QtCore.Qt.AlignmentFlag.AlignLeft)  # (capped: the cell is not)
        head.addWidget(self.info, 1, 1)
        head.setColumnStretch(1, 1)
        lay.addLayout(head)
        lay.addWidget(self.view, 1)
        # TF Playground's two toggles under its output map
        self.show_test = QtWidgets.QCheckBox("test data")
        self.show_test.setChecked(True)
        self.show_test.setToolTip("Show the test points (dark edge) on the map")
        self.show_test.toggled.connect(lambda on: self.test_pts.setVisible(on))
        self.discretize = QtWidgets.QCheckBox("discretize")
        self.discretize.setToolTip("Colour the map by the predicted class only (the sign of the output), "
                                   "without the confidence: the decision boundary alone")
        self.discretize.toggled.connect(lambda _: self.session.problem.draws_decision_map and self._draw_output())
        # Your own data: clicks on the map add or remove points (core/own_data.py); each change is
        # a new dataset, so training restarts, as it does when another dataset is chosen.
        self.edit_points = QtWidgets.QCheckBox("edit points")
        self.edit_points.setToolTip(EDIT_TIP)
        self.edit_points.toggled.connect(self._edit_mode)
        self.point_class = QtWidgets.QSpinBox()
        self.point_class.setRange(0, MAX_OWN_CLASSES - 1)
        self.point_class.setPrefix("class ")
        self.point_class.setToolTip("The class a left click adds (a right click adds class 1)")
        self.point_target = QtWidgets.QDoubleSpinBox()
        self.point_target.setRange(-1e3, 1e3)
        self.point_target.setDecimals(2)
        self.point_target.setSingleStep(0.1)
        self.point_target.setPrefix("y = ")
        self.point_target.setToolTip("The target a click adds (a regression set)")
        self.confirm_restart = lambda doing: True  # the window asks about unsaved steps (set by it)
        self.toggles = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(self.toggles)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.show_test)
        row.addWidget(self.discretize)
        row.addWidget(self.edit_points)
        row.addWidget(self.point_class)
        row.addWidget(self.point_target)
        self._edit_mode(False)
        lay.addWidget(self.legend)
        bottom = QtWidgets.QHBoxLayout()  # beside the hover line: the legend needs its width (3 classes)
        bottom.addWidget(self.hover, 1)
        bottom.addWidget(self.toggles)
        lay.addLayout(bottom)
        self.setMinimumSize(320, 220)
        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.view.scene().sigMouseMoved.connect(self._moved)
        self._decision_map: bool | None = None
        self._grad_ref, self._span = 1.0, 1.0
        self._box = (-np.inf, np.inf, -np.inf, np.inf)
        self._levels = (-1.0, 1.0)
        self.overlays: list = []  # extra items at the point, e.g. the Curvature panel's eigen-directions
        self._surface_levels: tuple[float, float] | None = None  # a landscape's colour range (of what is shown)
        self._unit: tuple[int, int] | None = None  # (layer, neuron) hovered in the Weights diagram, drawn here
        self.fill = ViewFill(self.plot, self)
        self.fill.redraw.connect(self._fill)
        self.reset()

    # ------------------------------------------------------------------ structure
    def mouse_readout(self) -> QtWidgets.QLabel:
        return self.hover

    def retheme(self) -> None:
        self.reset()  # titles and axes take the new theme's colours

    def reset(self) -> None:
        s = self.session
        self.hover.setText(" ")  # a readout of the last run's surface is stale under this one
        self.legend.pale = s.problem.draws_decision_map  # the decision map is pale (PALE_DIVERGING)
        self._grid_n = OUT_GRID  # the network may be another size: measure again
        if s.problem.draws_decision_map != self._decision_map:  # swap the item sets only when the kind changes
            old, new = ((self.dataset_items, self.function_items) if s.problem.traces_path
                        else (self.function_items, self.dataset_items))
            for item in old:
                if item in self.plot.items:
                    self.plot.removeItem(item)
            for item in new:
                if item not in self.plot.items:
                    self.plot.addItem(item)
            for iso in self.contours:
                iso.setVisible(s.problem.traces_path)
            if s.problem.traces_path and self.bar not in self.view.ci.items:
                self.view.addItem(self.bar, row=0, col=1)
            elif s.problem.draws_decision_map and self.bar in self.view.ci.items:
                self.view.removeItem(self.bar)
            self.legend.setVisible(s.problem.draws_decision_map)
            self.toggles.setVisible(s.problem.draws_decision_map)
            self.counter.set_captions(["epoch", "step"] if s.problem.has_epochs else ["step"])
            self._decision_map = s.problem.draws_decision_map
        self._edit_mode(self.edit_points.isChecked())  # the class or target picker of this data
        if s.problem.traces_path:
            self._setup_function()
        else:
            self._setup_dataset()
        super().reset()

    def _fill(self) -> None:
        """Draw the map over what the plot shows (ViewFill)."""
        if self.session.problem.traces_path:
            land = self.session.landscape
            box = self.fill.take()
            nx, ny = self.fill.shape(GRID, box)
            # the colours span what is shown: with the landscape's own range, the extension of a wide
            # plot was a block of the top colour (Rosenbrock's walls beyond x = ±2)
            self._surface_levels = lo, hi = draw_surface(self.img, self.contours, land, land.grid(nx, ny, box))
            self.bar.setLevels((lo, hi))
            self._bar_ticks(land, lo, hi)
        else:
            self._draw_output()

    def _setup_function(self) -> None:
        land = self.session.landscape
        xs, ys, Z = land.grid(GRID, GRID)  # the arrows' scale and the drawing box: the landscape's own view
        self.bar.axis.setLabel("f(x, y), log colour" if land.log_color else "f(x, y)")
        self.minima.setData(pos=np.array(land.minima, dtype=float).reshape(-1, 2))
        self.saddles.setData(pos=np.array(land.saddle_points, dtype=float).reshape(-1, 2))
        # Arrow lengths are relative to a typical slope of this surface (90th percentile over the view).
        gy, gx = np.gradient(Z, ys, xs)
        mags = np.hypot(gx, gy)
        mags = mags[np.isfinite(mags)]
        self._grad_ref = float(np.percentile(mags, 90)) if mags.size else 1.0
        self._span = min(xs[-1] - xs[0], ys[-1] - ys[0])
        w, h = xs[-1] - xs[0], ys[-1] - ys[0]  # what is drawn: the view and DRAW_MARGIN views around it
        m = DRAW_MARGIN
        self._box = (xs[0] - m * w, xs[-1] + m * w, ys[0] - m * h, ys[-1] + m * h)
        apply_plot_style(self.plot, f"{land.title}: f(x, y) = {land.formula}", "x", "y", self.th,
                               grid=False)
        self.fill.set_base((*land.xrange, *land.yrange))
        self._fill()

    def _bar_ticks(self, land, lo: float, hi: float) -> None:
        """Log colour: put the ticks at round values of f, not of log(1 + f − f*)."""
        if not land.log_color:
            self.bar.axis.setTicks(None)
            return
        ticks = [(0.0, fmt(land.fmin))]
        for k in range(-2, 13):
            pos = math.log1p(10.0**k)
            if lo < pos <= hi and pos - ticks[-1][0] > (hi - lo) / 10:  # no crowding near f*
                ticks.append((pos, fmt(land.fmin + 10.0**k)))
        self.bar.axis.setTicks([ticks])

    def _setup_dataset(self) -> None:
        s = self.session
        d, info = s.data, s.data.info
        x0, x1, y0, y1 = info.view
        self._unit = None  # a neuron of the last network
        self._output_legend()
        self._point_colors(d, info.kind == "regression")
        self.fill.set_base((x0, x1, y0, y1))
        self._draw_output()

    def _output_legend(self) -> None:
        """The colour map, legend and title of the model's output (as opposed to a hovered neuron's)."""
        s = self.session
        d, info = s.data, s.data.info
        ys_all = np.concatenate([d.y_train, d.y_test]).astype(float)
        if s.loss_name == "cross_entropy":
            self.img.setLookupTable(None)  # RGB image: colours are computed here
            names = [f"class {c}" for c in range(info.n_classes)]
            self.legend.set_classes(names, [pale(c) for c in CLASS_COLORS[: info.n_classes]],
                                    "colour: most likely class (paler = less sure)")
            what = "most likely class"
        elif s.loss_name == "bce":
            self._levels = (-1.0, 1.0)
            self.legend.set_range(-1, 1, "colour: P(class 1)", ("0", "½", "1"))
            what = "P(class 1)"
        else:  # raw output: fixed symmetric levels from the targets so colours keep their meaning
            self._levels = symmetric_levels(ys_all, np.ones(1))
            self.legend.set_range(*self._levels, "colour: model output ŷ" + (
                " and target y" if info.kind == "regression" else " (sign = class)"))
            what = "output ŷ"
        if s.loss_name != "cross_entropy":
            self.img.setColorMap(PALE_DIVERGING)
        apply_plot_style(self.plot, f"{info.title}: {what} over the input plane", "x₁", "x₂", self.th,
                               grid=False)

    def show_unit(self, unit: tuple[int, int] | None) -> None:
        """Hovering a neuron (layer, index; layer 0 the inputs) in the Weights diagram draws its map
        here, large, over the same plane as the output and the data; None draws the output again."""
        s = self.session
        if not s.problem.has_layers or unit == self._unit:
            return
        self._unit = unit
        if unit is None:
            self._output_legend()
        else:
            layer, i = unit
            name = self.input_label(i) if layer == 0 else f"neuron {i + 1} of layer {layer}"
            self.img.setColorMap(PALE_DIVERGING)
            apply_plot_style(self.plot, f"{s.data.info.title}: {name} over the input plane (hovered)",
                                   "x₁", "x₂", self.th, grid=False)
        self._draw_output()

    def unit_image(self, box: tuple[float, float, float, float], nx: int, ny: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float]]:
        """The hovered neuron's output over `box`: xs, ys, Z and its layer's colour range (the
        diagram's, `unit_maps.map_levels`)."""
        assert self._unit is not None
        layer, i = self._unit
        m = self.session.model
        with np.errstate(all="ignore"):
            xs, ys, layers = unit_maps.model_unit_grids(m, box, nx, ny, inputs=self.session.inputs)
        A = layers[layer]
        levels = unit_maps.map_levels(m.unit_activation(layer), layer, A)
        caption = f"colour: {'input' if layer == 0 else m.unit_activation(layer) + ' output'} of the hovered neuron"
        self.legend.set_range(*levels, caption)
        return xs, ys, A[:, :, i], levels

    def _point_colors(self, d, regression: bool) -> None:
        """Draw the points, or of a large set a class-stratified sample (`point_sample`): the same
        points on every frame and after every reset of the same data, and after an edit of one's
        own data the same but for the point edited. `drawn_train`/`drawn_test` are the indices drawn."""
        class_brushes = [pg.mkBrush(c) for c in CLASS_COLORS]  # shared: 25× faster setData than one each

        def brushes(y):
            if regression:
                lo, hi = self._levels
                return [pg.mkBrush(c) for c in DIVERGING.mapToQColor((np.asarray(y) - lo) / (hi - lo))]
            return [class_brushes[c] for c in class_index(y)]

        def strata(y):  # a regression's targets are one stratum
            return np.zeros(len(y), np.int64) if regression else class_index(y)
        self.drawn_train = stratified_sample(strata(d.y_train), MAX_TRAIN_DRAWN, priority(d.x_train))
        self.drawn_test = stratified_sample(strata(d.y_test), MAX_TEST_DRAWN, priority(d.x_test))
        self.train_pts.setData(pos=d.x_train[self.drawn_train], brush=brushes(d.y_train[self.drawn_train]),
                               pen=pg.mkPen("w", width=1))
        self.test_pts.setData(pos=d.x_test[self.drawn_test], brush=brushes(d.y_test[self.drawn_test]),
                              pen=pg.mkPen("#111111", width=1.2))

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        s = self.session
        if s.problem.traces_path:
            self._draw_path()
        else:
            if self.due():
                self._draw_output()
            self._ring_batch()
        for overlay in self.overlays:  # each has update(session); it hides itself off landscapes
            overlay.update(s)
        self._progress()
        self.info.setText(self._summary())

    def _progress(self) -> None:
        """The counter and the loss curve over the map, from the session's records: the full-set
        train and test loss the window evaluates once per frame (`session.evals`, as the Loss
        panel's curves), or a landscape's f at each step (`session.history`)."""
        s = self.session
        if s.problem.has_epochs:
            self.counter.set_values({"epoch": f"{s.epoch:,.1f}", "step": f"{s.step:,}"})
            ev, steps = s.evals, s.evals.get_steps()
            self.sparkline.set_series([("train", steps, ev.get("train_loss"), self.th.muted),
                                       ("test", steps, ev.get("test_loss"), self.th.fg)])
        else:
            self.counter.set_values({"step": f"{s.step:,}"})
            # the history's f is each step's start; the current point's f ends the curve
            steps = np.append(s.history.get_steps(), s.step)
            f = np.append(s.history.get("loss"), s.landscape.value(s.theta))
            self.sparkline.set_series([("f", steps, f, self.th.fg)])

    def _draw_path(self) -> None:
        s = self.session
        h = s.history
        x = np.append(h.get("x"), s.theta[0])
        y = np.append(h.get("y"), s.theta[1])
        keep = np.isfinite(x) & np.isfinite(y)
        x, y = clip_path(x[keep], y[keep], self._box)
        self.path_shadow.setData(x, y, connect="finite")
        self.path.setData(x, y, connect="finite")
        here = _inside(float(s.theta[0]), float(s.theta[1]), self._box)
        self.point.setData(pos=[(s.theta[0], s.theta[1])] if here else [])
        start = s.config["task"]["start"]
        self.start.setData(pos=[start] if _inside(start[0], start[1], self._box) else [])
        g = s.landscape.gradient(s.theta)
        norm = float(np.hypot(*g))
        if not here or not math.isfinite(norm) or norm == 0.0:  # a point far outside has no arrow in view
            self.arrow_line.setData([], [])
            self.arrow_head.hide()
            return
        # Direction exact; length grows with log |∇f| relative to this surface's typical slope, so
        # slopes a thousand times apart both stay visible (12 % to 25 % of the view).
        t = float(np.clip((math.log10(norm / self._grad_ref) + 3.0) / 3.5, 0.0, 1.0))
        length = self._span * (0.12 + 0.13 * t)
        dx, dy = -g / norm * length
        x0, y0 = float(s.theta[0]), float(s.theta[1])
        self.arrow_line.setData([x0, x0 + dx], [y0, y0 + dy])
        self.arrow_head.setPos(x0 + dx, y0 + dy)
        self.arrow_head.setStyle(angle=180.0 - math.degrees(math.atan2(dy, dx)))  # 0° points left
        self.arrow_head.show()

    def _ring_batch(self) -> None:
        """Ring the last step's batch if the steps since the last frame are just that one."""
        s = self.session
        one = s.step == self._ringed_after + 1 and s.last_batch is not None and len(s.last_batch) < s.n_train
        self._ringed_after = s.step
        if one:
            self.batch_ring.setData(pos=s.data.x_train[s.last_batch], pen=pg.mkPen(self.th.fg, width=2))
        elif len(self.batch_ring.data):  # (an empty setData every frame repainted the map at full speed)
            self.batch_ring.setData(pos=np.empty((0, 2)))

    def output_image(self) -> tuple[np.ndarray, tuple[float, float]]:
        """The dataset map as drawn: (values or RGB, levels)."""
        s = self.session
        n = self._grid_n
        box = self.fill.take()
        nx, ny = self.fill.shape(n, box)
        t = time.perf_counter()
        xs, ys, Z = s.output_grid(nx, box, ny)
        took = time.perf_counter() - t
        # the cost grows with n²: aim the next pass at GRID_SECONDS
        self._grid_n = int(np.clip(n * math.sqrt(GRID_SECONDS / max(took, 1e-6)), MIN_GRID, OUT_GRID))
        self._grid = (xs, ys, Z)
        if s.loss_name == "cross_entropy":
            C = Z.shape[-1]
            cls = np.nan_to_num(Z).argmax(axis=-1)
            conf = np.clip((np.nan_to_num(Z).max(axis=-1) - 1 / C) / (1 - 1 / C), 0, 1)[..., None]
            if self.discretize.isChecked():
                conf = np.ones_like(conf)
            rgb = np.array([pg.mkColor(pale(c)).getRgb()[:3] for c in CLASS_COLORS[:C]], float)[cls]
            white = np.array(pg.mkColor(pale(ZERO)).getRgb()[:3], float)
            return (white + conf * (rgb - white)).astype(np.uint8), (0.0, 255.0)
        D = 2.0 * Z - 1.0 if s.loss_name == "bce" else Z  # P(class 1) ∈ [0, 1] -> [−1, 1], ½ is white
        if self.discretize.isChecked():  # the side of the boundary only: ½ for P(class 1), 0 for ŷ
            D = np.sign(D) * self._levels[1]
        # clipped to the levels: an overflowed output (inf) overflowed pyqtgraph's rescale to 8 bits
        return np.clip(np.nan_to_num(D, nan=0.0), *self._levels), self._levels

    def _draw_output(self) -> None:
        if self._unit is not None:
            box = self.fill.take()
            xs, ys, Z, levels = self.unit_image(box, *self.fill.shape(MIN_GRID * 2, box))
            self.img.setImage(np.clip(drawable(Z), *levels), autoLevels=False, levels=levels)
            self.img.setRect(_rect(xs, ys))
            return
        D, levels = self.output_image()
        self.img.setImage(D, autoLevels=False, levels=levels)
        xs, ys, _ = self._grid
        self.img.setRect(_rect(xs, ys))

    def _summary(self) -> str:
        s = self.session
        if s.problem.has_data:
            return "● train: white edge · ● test: dark edge · " + self.points_note()
        g = s.landscape.gradient(s.theta)
        return (f"(x, y) = ({fmt(s.theta[0])}, {fmt(s.theta[1])}) · "
                f"f = {fmt(s.landscape.value(s.theta))} · |∇f| = {fmt(np.hypot(*g))} · "
                f"<span style='color:{ARROW_COLOR}'>➜</span> −∇f "
                f"<span style='color:#b8a000'>★</span> minimum ✕ saddle ○ start · click the map to start there")

    def points_note(self) -> str:
        """How many points there are, and of a sampled set how many of them are drawn."""
        d = self.session.data
        n_tr, n_te = len(d.x_train), len(d.x_test)
        k_tr, k_te = len(self.drawn_train), len(self.drawn_test)
        if (k_tr, k_te) == (n_tr, n_te):
            return f"{n_tr:,} / {n_te:,} points"
        return f"showing {k_tr:,} of {n_tr:,} training and {k_te:,} of {n_te:,} test points (a sample)"

    # ------------------------------------------------------------------ mouse
    def _view_point(self, scene_pos: QtCore.QPointF) -> tuple[float, float] | None:
        if not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        return p.x(), p.y()

    def _clicked(self, ev) -> None:
        buttons = (QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.RightButton)
        if ev.button() not in buttons or ev.double():
            return
        pt = self._view_point(ev.scenePos())
        if pt is None:
            return
        right = ev.button() == QtCore.Qt.MouseButton.RightButton
        remove = bool(ev.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
        if self.click_at(*pt, right=right, remove=remove):
            ev.accept()

    def _edit_mode(self, on: bool) -> None:
        s = self.session
        info = s.data.info if s.data is not None else None
        self.point_class.setVisible(on and info is not None and info.n_classes > 2)
        self.point_target.setVisible(on and info is not None and info.kind == "regression")
        if info is not None and info.n_classes > 2:
            self.point_class.setMaximum(MAX_OWN_CLASSES - 1)
        # a right click adds class 1 while editing, so pyqtgraph's context menu stays shut
        self.plot.setMenuEnabled(not on)
        if on:
            self.hover.setText(EDIT_TIP)

    def click_at(self, x: float, y: float, right: bool = False, remove: bool = False) -> bool:
        """Landscapes: restart from (x, y) (clamped to the view range); the window then resets panels.
        Datasets while editing points: add a point there (left click: class 0, or the chosen class
        or target; right click: class 1), or with `remove` take away the nearest point."""
        s = self.session
        if s.problem.has_data:
            return self.edit_points.isChecked() and self._edit_data(x, y, right, remove)
        if right or self.hidden_from_students("task"):  # classroom mode: the start is the teacher's
            return False
        land = s.landscape
        s.move_start(float(np.clip(x, *land.xrange)), float(np.clip(y, *land.yrange)))
        return True

    def _edit_data(self, x: float, y: float, right: bool, remove: bool) -> bool:
        s = self.session
        info = s.data.info
        try:
            if remove:
                x0, x1 = info.view[:2]
                cfg = own_data.without_point(s, x, y, radius=0.03 * (x1 - x0))
                if cfg is None:
                    self.hover.setText("No point near the click to remove.")
                    return True
            else:
                if info.kind == "regression":
                    label: float = self.point_target.value()
                elif info.n_classes > 2:
                    label = 1 if right else self.point_class.value()
                else:
                    label = 1 if right else 0
                cfg = own_data.with_point(s, x, y, label)
        except own_data.DataError as e:
            self.hover.setText(str(e))
            return True
        if not self.confirm_restart("changing the data"):
            return True
        self.holder.apply_config(cfg)
        return True

    def _moved(self, pos: QtCore.QPointF) -> None:
        pt = self._view_point(pos)
        if pt is None:
            return
        x, y = pt
        s = self.session
        if s.problem.traces_path:
            with np.errstate(all="ignore"):
                f = float(s.landscape.f(x, y))
            self.hover.setText(f"(x, y) = ({fmt(x)}, {fmt(y)}) · f = {fmt(f)}")
            return
        xs, ys, Z = getattr(self, "_grid", (None, None, None))
        if xs is None:
            return
        i, j = int(np.abs(xs - x).argmin()), int(np.abs(ys - y).argmin())
        v = Z[j, i]
        if s.loss_name == "cross_entropy":
            val = ", ".join(f"P({c}) = {fmt(p)}" for c, p in enumerate(v))
        elif s.loss_name == "bce":
            val = f"P(class 1) = {fmt(v)}"
        else:
            val = f"ŷ = {fmt(v)}"
        self.hover.setText(f"(x₁, x₂) = ({fmt(x)}, {fmt(y)}) · {val}")
