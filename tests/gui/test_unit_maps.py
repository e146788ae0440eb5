"""The neuron maps of the Weights panel's diagram: what each map holds after real training, how many
a column shows, the fallback to circles, hovering (unit_hovered) and the full-size unit_map.

Expected maps are computed here from the weights (a forward pass written out in numpy, or
`core.unit_maps.unit_grids`, itself checked against a hand-written pass and torch in
tests/core/test_unit_maps.py), never read back from the panel.
"""
from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui
from PySide6.QtTest import QTest

from gradplay.core.unit_maps import unit_grids
from gradplay.gui.colors import DIVERGING
from gradplay.gui.docks import weights as weights_mod
from gradplay.gui.docks.weights import WeightsPanel
from gradplay.gui.number_format import fmt
from gradplay.gui.theme import theme

CIRCLES = {"task": {"kind": "dataset", "name": "circles", "n_samples": 200}, "optimizer": {"name": "adam", "lr": 0.03}}


def circles(hidden: list[int], **network) -> dict:
    return {**CIRCLES, "network": {"hidden": hidden, **network}}


def make_panel(qtbot, holder, session, size=(700, 760)) -> WeightsPanel:
    holder.session = session
    panel = WeightsPanel(holder)
    panel.slow_interval = 0.0  # redraw on every refresh
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    panel.reset()
    return panel


def hand_layers(session, xs: np.ndarray, ys: np.ndarray) -> list[np.ndarray]:
    """Inputs and hidden outputs on the grid (rows = ys), tanh or relu nets without batch norm."""
    m = session.model
    f = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}[m.activation]
    gx, gy = np.meshgrid(xs, ys)
    a = np.column_stack([gx.ravel(), gy.ravel()])
    out = [a.reshape(len(ys), len(xs), -1)]
    for W, b in zip(m.W[:-1], m.b[:-1]):
        a = f(a @ W + b)
        out.append(a.reshape(len(ys), len(xs), -1))
    return out


def view_to_scene(panel: WeightsPanel, x: float, y: float) -> QtCore.QPointF:
    return panel.net.vb.mapViewToScene(QtCore.QPointF(x, y))


def test_maps_after_play_are_the_current_units_over_the_plane(qtbot, make_window, play_past):
    """Real Play button and trainer thread: once paused, every drawn map is its neuron's output at
    the current weights, on the view plane, with the layer's colour range (tanh: ±1)."""
    w = make_window(circles([8, 8], activation="tanh"))
    w.resize(1400, 1000)  # a Weights dock tall enough for all 8 maps of a column
    qtbot.wait(50)
    play_past(w, 50)
    panel = w.panels["weights"]
    s = w.controller.session
    qtbot.waitUntil(lambda: panel.map_grid is not None and panel.info.text().startswith(f"<b>step {s.step}</b>"))
    assert panel.maps_on
    xs, ys, levels = panel.map_grid
    x0, x1, y0, y1 = s.data.info.view
    np.testing.assert_array_equal(xs, np.linspace(x0, x1, len(xs)))
    np.testing.assert_array_equal(ys, np.linspace(y0, y1, len(ys)))
    want = hand_layers(s, xs, ys)
    # the input column: all nine candidate features, each on ± its largest |value| over the view
    gx, gy = np.meshgrid(xs, ys)
    feats = [gx, gy, gx * gx, gy * gy, gx * gy, np.sin(gx), np.sin(gy), np.cos(gx), np.cos(gy)]
    assert levels[0][:5] == [(-1.5, 1.5)] * 2 + [(-2.25, 2.25)] * 3  # x₁, x₂ at ±1.5; x₁², x₂², x₁x₂
    assert levels[1:] == [(-1.0, 1.0), (-1.0, 1.0)]
    assert len(panel.map_items[0]) == 9
    for img, f, lv in zip(panel.map_items[0], feats, levels[0]):
        np.testing.assert_allclose(img.image, f, rtol=1e-12, atol=1e-12)
        top = np.abs(f).max()
        assert lv == pytest.approx((-top, top)) and tuple(img.levels) == lv
    np.testing.assert_array_equal(panel.map_items[0][0].image, want[0][:, :, 0])  # x₁ as W1 sees it
    for j, (items, units) in enumerate(zip(panel.map_items[1:], panel.map_units[1:]), start=1):
        assert len(items) == len(units) == 8
        for img, u in zip(items, units):
            np.testing.assert_allclose(img.image, want[j][:, :, u], rtol=1e-12, atol=1e-12)
            assert tuple(img.levels) == levels[j]
    # neuron (1, 0): the first map of layer 1, the first hidden neuron, against the core helper too
    _, _, layers = unit_grids(s, len(xs))
    np.testing.assert_array_equal(panel.map_items[1][0].image, layers[1][:, :, 0])


def test_eight_wide_layers_have_a_map_in_every_neuron(qtbot, holder, make_session):
    s = make_session(circles([8, 8, 8], activation="relu"))
    s.run(30)
    panel = make_panel(qtbot, holder, s)
    panel.refresh()
    assert panel.maps_on
    assert [len(items) for items in panel.map_items] == [9, 8, 8, 8]
    w, h, side = panel._map_side
    assert side >= weights_mod.MIN_MAP_PX
    k = 0
    for j, items in enumerate(panel.map_items[1:], start=1):
        for i, img in enumerate(items):
            assert img.isVisible() and img.image.shape == (weights_mod.MAP_GRID,) * 2
            # the map's square is centred on its neuron
            r = img.mapRectToView(img.boundingRect())
            assert r.center().x() == pytest.approx(weights_mod.COLUMN_GAP * j)
            assert r.center().y() == pytest.approx(panel.cols[j][i])
            assert (r.width(), r.height()) == pytest.approx((w, h))
            k += 1
    assert panel.inputs_on  # and a frame behind each of the nine input tiles
    assert len(panel.frames.data) == k + 9  # one bias-coloured frame behind each map
    # relu (unbounded): ± the layer's largest output over the plane
    xs, ys, levels = panel.map_grid
    want = hand_layers(s, xs, ys)
    for j in (1, 2, 3):
        top = np.abs(want[j]).max()
        assert levels[j] == pytest.approx((-top, top))
    assert "maps:" not in panel.info.text()


def test_frames_take_their_neurons_bias_colours(qtbot, holder, make_session):
    s = make_session(circles([4]))
    s.run(30)
    panel = make_panel(qtbot, holder, s)
    panel.refresh()
    lo, hi = panel.levels
    brushes = [spot.brush().color().name() for spot in panel.frames.points()]
    # the inputs have no bias: x₁, x₂ muted, the seven unused features on the background
    assert brushes[:9] == [theme().muted] * 2 + [theme().bg] * 7
    for b, got in zip(s.model.b[0], brushes[9:]):  # one of 256 shades of the weights' scale
        assert got == DIVERGING.mapToQColor(round((b - lo) / (hi - lo) * 255) / 255).name()


def test_wide_layers_show_their_twelve_strongest_neurons(qtbot, holder, make_session):
    s = make_session(circles([256, 64]))
    s.run(5)
    panel = make_panel(qtbot, holder, s, size=(800, 900))
    panel.refresh()
    assert panel.maps_on and panel._cap == 12
    assert [len(items) for items in panel.map_items] == [9, 12, 12]
    for j in (1, 2):
        strength = np.abs(s.model.W[j]).sum(axis=1)
        strongest = set(np.argsort(strength)[-12:])
        assert set(panel.map_units[j]) == strongest
        assert list(panel.map_units[j]) == sorted(strongest)  # top to bottom in the neurons' order
    assert "maps: 12 of 64 / 256 neurons shown, the strongest" in panel.info.text()
    xs, ys, _ = panel.map_grid
    want = hand_layers(s, xs, ys)
    for img, u in zip(panel.map_items[1], panel.map_units[1]):
        np.testing.assert_allclose(img.image, want[1][:, :, u], rtol=1e-12, atol=1e-12)
    # 12 maps, one spacing apart, all inside the view
    (x0, x1), (y0, y1) = panel.net.vb.viewRange()
    for img in panel.map_items[1]:
        r = img.mapRectToView(img.boundingRect())
        assert y0 <= r.top() < r.bottom() <= y1  # (QRectF: top is the smaller y)


def test_a_short_panel_shows_fewer_maps_and_says_so(qtbot, holder, make_session):
    s = make_session(circles([8, 8]))
    panel = make_panel(qtbot, holder, s, size=(600, 330))
    panel.refresh()
    assert panel.maps_on
    k = panel._cap
    assert 2 <= k < 8 and [len(items) for items in panel.map_items] == [9, k, k]
    assert f"maps: {k} of 8 neurons shown, the strongest" in panel.info.text()
    assert panel._map_side[2] >= weights_mod.MIN_MAP_PX


def test_too_small_a_diagram_falls_back_to_circles(qtbot, holder, make_session):
    s = make_session(circles([8] * 8))
    panel = make_panel(qtbot, holder, s, size=(320, 260))
    panel.refresh()
    assert not panel.maps_on
    assert not any(img.isVisible() for items in panel.map_items for img in items)
    assert len(panel.frames.data) == 0 and panel.map_grid is None
    assert "enlarge the panel for neuron maps" in panel.hover.text() and "maps hidden" in panel.info.text()
    assert len(panel.neurons.data) == 9 + 64 + 1  # the plain diagram is still there (all candidate inputs)
    # grown, the paused panel draws its maps at once (no training step in between)
    panel.resize(1000, 900)
    qtbot.waitUntil(lambda: panel.maps_on and panel.map_grid is not None)
    assert all(img.isVisible() and img.image is not None for items in panel.map_items for img in items)
    assert "neuron maps" not in panel.hover.text()


def test_hovering_neurons_emits_unit_hovered(qtbot, holder, make_session):
    s = make_session(circles([8, 6]))
    s.run(20)
    panel = make_panel(qtbot, holder, s)
    panel.refresh()
    assert panel.maps_on
    got = []
    panel.unit_hovered.connect(got.append)
    viewport = panel.net_view.viewport()

    def move_to(x: float, y: float) -> None:
        qtbot.wait(60)  # pyqtgraph's scene drops mouse moves that come faster than its rate limit
        QTest.mouseMove(viewport, panel.net_view.mapFromScene(view_to_scene(panel, x, y)))

    # a real mouse move over the map of layer 2, neuron 4 (near its corner: the whole square counts)
    w, h, _ = panel._map_side
    x2, y2 = weights_mod.COLUMN_GAP * 2, panel.cols[2][3]
    with qtbot.waitSignal(panel.unit_hovered, timeout=2000) as sig:
        move_to(x2 + 0.4 * w, y2 - 0.4 * h)
    assert sig.args == [(2, 3)]
    assert panel.hover.text().startswith(f"b2[4] = {fmt(s.model.b[1][3])}  (bias of neuron 4 of layer 2)")
    # the input x₂, then empty space between the columns
    with qtbot.waitSignal(panel.unit_hovered, timeout=2000) as sig:
        move_to(0.0, panel.cols[0][1])
    assert sig.args == [(0, 1)] and panel.hover.text() == "input x₂ · used: click to remove it"
    with qtbot.waitSignal(panel.unit_hovered, timeout=2000) as sig:
        move_to(1.5, panel.cols[1][0])
    assert sig.args == [None]
    # the output neuron: named, but its map is the Landscape panel's, so None
    panel._hover_net(view_to_scene(panel, *panel.xy[-1]))
    assert panel.hover.text().startswith("b3[1] = ") and "of the output" in panel.hover.text() and got[-1] is None
    # the same neuron again emits nothing new; leaving the view emits None
    panel._hover_net(view_to_scene(panel, 3.0, panel.cols[1][7]))
    panel._hover_net(view_to_scene(panel, 3.0, panel.cols[1][7] + 0.1))
    assert got[-1] == (1, 7) and got.count((1, 7)) == 1
    with qtbot.waitSignal(panel.unit_hovered, timeout=2000) as sig:
        QtCore.QCoreApplication.sendEvent(panel.net_view, QtCore.QEvent(QtCore.QEvent.Type.Leave))
    assert sig.args == [None]


def test_hovering_a_map_of_a_wide_layer_names_the_neuron_it_shows(qtbot, holder, make_session):
    s = make_session(circles([64]))
    panel = make_panel(qtbot, holder, s, size=(700, 900))
    panel.refresh()
    k = 5
    unit = int(panel.map_units[1][k])
    with qtbot.waitSignal(panel.unit_hovered, timeout=2000) as sig:
        panel._hover_net(view_to_scene(panel, weights_mod.COLUMN_GAP, panel.map_slots[1][k]))
    assert sig.args == [(1, unit)]
    assert panel.hover.text().startswith(f"b1[{unit + 1}] = ")


def test_unit_map_is_the_full_size_map_of_a_neuron(qtbot, holder, make_session):
    s = make_session(circles([5, 3], activation="tanh"))
    s.run(40)
    panel = make_panel(qtbot, holder, s, size=(600, 400))
    xs, ys, Z = panel.unit_map(2, 1, 60)
    x0, x1, y0, y1 = s.data.info.view
    np.testing.assert_array_equal(xs, np.linspace(x0, x1, 60))
    np.testing.assert_array_equal(ys, np.linspace(y0, y1, 60))
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    m = s.model
    want = np.tanh(np.tanh(pts @ m.W[0] + m.b[0]) @ m.W[1] + m.b[1])[:, 1].reshape(60, 60)
    np.testing.assert_allclose(Z, want, rtol=1e-12, atol=1e-12)
    _, _, Z0 = panel.unit_map(0, 0, 10)
    np.testing.assert_array_equal(Z0, np.tile(np.linspace(x0, x1, 10), (10, 1)))  # x₁ grows along x
    assert panel.unit_map_levels(2, Z) == (-1.0, 1.0)
    for bad in ((3, 0), (1, 5), (-1, 0)):
        with pytest.raises(ValueError):
            panel.unit_map(*bad, 10)


def test_map_grid_shrinks_when_a_pass_is_slow(qtbot, holder, make_session, monkeypatch):
    """The grid is aimed at MAP_SECONDS per pass: a pass that takes 4× as long halves it."""
    s = make_session(circles([8]))
    panel = make_panel(qtbot, holder, s)
    assert panel.map_n == weights_mod.MAP_GRID
    clock = iter(np.arange(0.0, 100.0, weights_mod.MAP_SECONDS * 4))
    monkeypatch.setattr(weights_mod.time, "perf_counter", lambda: float(next(clock)))
    panel._draw_unit_maps()
    assert panel.map_n == weights_mod.MAP_GRID // 2
    panel._draw_unit_maps()
    assert len(panel.map_grid[0]) == weights_mod.MAP_GRID // 2
    assert panel.map_items[1][0].image.shape == (weights_mod.MAP_GRID // 2,) * 2


def test_hovering_a_neuron_shows_its_map_large_on_the_output_plane(qtbot, make_window):
    """In the window: the mouse on a neuron of the diagram draws that neuron's output in the Landscape
    panel over the plane it shows (independent reference: a hand-written forward pass); leaving the
    diagram draws the model's output again."""
    w = make_window(circles([6, 5], activation="tanh"))
    w.arrange("simple")  # diagram and map side by side
    w.controller.run_steps(30)
    weights, land = w.panels["weights"], w.panels["landscape"]
    assert weights.maps_on
    x, y = weights_mod.COLUMN_GAP * 2, weights.cols[2][3]
    weights._hover_net(view_to_scene(weights, x, y))  # layer 2, neuron 4
    xs, ys = land._grid[0], land._grid[1]
    shown = land.img.image
    box = land.fill.drawn
    gx, gy = np.meshgrid(np.linspace(box[0], box[1], shown.shape[1]), np.linspace(box[2], box[3], shown.shape[0]))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    m = w.controller.session.model
    a = np.tanh(np.tanh(pts @ m.W[0] + m.b[0]) @ m.W[1] + m.b[1])
    np.testing.assert_allclose(shown, a[:, 3].reshape(shown.shape), rtol=1e-12, atol=1e-12)
    assert "neuron 4 of layer 2" in land.plot.titleLabel.text and land.img.levels.tolist() == [-1.0, 1.0]
    QtCore.QCoreApplication.sendEvent(weights.net_view, QtCore.QEvent(QtCore.QEvent.Type.Leave))
    xs, ys, out = land._grid
    fresh = w.controller.session.output_grid(len(xs), (xs[0], xs[-1], ys[0], ys[-1]), len(ys))[2]
    np.testing.assert_array_equal(land.img.image, 2 * fresh - 1)
    assert "neuron" not in land.plot.titleLabel.text


def test_plus_and_minus_on_the_diagram_edit_the_network(qtbot, make_window):
    """TF Playground's ± buttons: a neuron more or less in a column, a hidden layer more or less;
    the run is rebuilt with the new widths (through the controller, as Setup does)."""
    w = make_window("spiral_tanh")
    weights = w.panels["weights"]
    b = weights.buttons
    hidden = lambda: w.controller.session.config["network"]["hidden"]  # noqa: E731
    assert hidden() == [16, 16] and len(b.columns) == 2
    minus, plus = b.columns[0]
    assert plus.isVisible() and minus.isVisible()
    qtbot.mouseClick(plus, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hidden() == [17, 16])
    qtbot.mouseClick(b.columns[1][0], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hidden() == [17, 15])
    qtbot.mouseClick(b.add_layer, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hidden() == [17, 15, 15])
    assert len(b.columns) == 3 and b.count.text() == "3 hidden layers"
    assert w.controller.session.model.hidden == (17, 15, 15)  # the network itself, not just the config
    qtbot.mouseClick(b.remove_layer, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hidden() == [17, 15])
    assert w.panels["setup"].layers.hidden() == [17, 15]  # Setup shows the same network


def test_a_short_panel_names_the_used_inputs_and_fills_its_heatmaps(qtbot, holder, make_session):
    """At Full 1280×720 the panel is ~484×291 px: nine equal input slots left x₂ unnamed under x₁,
    and square cells drew W3 (16×1) as a 1-px line. Used inputs get the room; cells may stretch."""
    s = make_session(circles([16, 16]))
    panel = make_panel(qtbot, holder, s, size=(484, 291))
    panel.refresh()
    named = [t for t in panel.input_labels if t.isVisible()]
    assert [t.textItem.toPlainText() for t in named] == ["x₁", "x₂"]
    a, b = (t.mapRectToScene(t.boundingRect()) for t in named)  # (their boxes hold 4-px margins)
    assert b.center().y() - a.center().y() >= QtGui.QFontMetricsF(named[0].textItem.font()).height()
    # every input keeps its slot (to click) and W1's rows still leave the used inputs' slots
    assert len(panel.cols[0]) == 9 and list(panel.xy[:9, 1]) == list(panel.cols[0])
    gaps = -np.diff(panel.cols[0])
    assert gaps[0] > 2 * gaps[-1]
    for plot, img, W in zip(panel.maps, panel.images, s.model.W):
        box = plot.vb.sceneBoundingRect()
        drawn = plot.vb.mapViewToScene(img.boundingRect()).boundingRect()
        cell_w, cell_h = drawn.width() / W.shape[1], drawn.height() / W.shape[0]
        assert 1 / weights_mod.STRETCH - 1e-6 <= cell_w / cell_h <= weights_mod.STRETCH + 1e-6
        # as large as the box allows with that limit: it fills its width or its height
        assert drawn.width() >= 0.85 * box.width() or drawn.height() >= 0.75 * box.height()


def test_input_names_beside_circles_stay_inside_the_view(qtbot, holder, make_session):
    """With no hidden layer the names sat 0.35 units (~70 px) left of the circles and were cut."""
    s = make_session({**CIRCLES, "network": {"hidden": [], "inputs": ["x1^2", "x2^2"]}})
    panel = make_panel(qtbot, holder, s, size=(484, 291))
    panel.refresh()
    view = panel.net_view
    shown = [t for t in panel.input_labels if t.isVisible()]
    assert [t.textItem.toPlainText() for t in shown] == ["x₁²", "x₂²"]
    for t in shown:
        box = view.mapFromScene(t.mapRectToScene(t.boundingRect())).boundingRect()
        assert box.left() >= 0 and box.right() < view.mapFromScene(
            panel.net.vb.mapViewToScene(QtCore.QPointF(0.0, 0.0))).x()
