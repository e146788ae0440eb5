"""Your own data in the window: points clicked onto the map (left, right, Shift to remove) and a CSV
imported from the File menu become the training set; a bad file is refused with the row named."""
import numpy as np
from PySide6 import QtCore

XOR = {"task": {"name": "xor", "n_samples": 40}, "network": {"hidden": [4]}}


def click_map(qtbot, panel, x, y, button=QtCore.Qt.MouseButton.LeftButton,
              modifier=QtCore.Qt.KeyboardModifier.NoModifier):
    """A real mouse click on the map at data coordinates (x, y)."""
    scene = panel.plot.vb.mapViewToScene(QtCore.QPointF(x, y))
    pos = panel.view.mapFromScene(scene)
    qtbot.mouseClick(panel.view.viewport(), button, modifier, pos)


def all_points(s):
    x = np.concatenate([s.data.x_train, s.data.x_test])
    y = np.concatenate([s.data.y_train, s.data.y_test])
    return x, y


def test_clicks_add_and_remove_points(qtbot, make_window):
    w = make_window(XOR)
    panel = w.panels["landscape"]
    w.docks["landscape"].raise_()
    qtbot.waitUntil(panel.isVisible)
    click_map(qtbot, panel, 0.5, 0.5)  # not editing: a click changes nothing
    assert w.controller.session.config["task"]["name"] == "xor"
    qtbot.mouseClick(panel.edit_points, QtCore.Qt.MouseButton.LeftButton)
    assert panel.edit_points.isChecked()
    click_map(qtbot, panel, 0.5, -0.25)
    click_map(qtbot, panel, -0.75, 0.5, QtCore.Qt.MouseButton.RightButton)
    s = w.controller.session
    assert s.config["task"]["name"] == "own" and s.config["task"]["n_samples"] == 42
    x, y = all_points(s)
    for (px, py), label in (((0.5, -0.25), 0.0), ((-0.75, 0.5), 1.0)):
        i = int(np.argmin(np.hypot(x[:, 0] - px, x[:, 1] - py)))
        assert np.hypot(x[i, 0] - px, x[i, 1] - py) < 0.03 and y[i] == label  # where clicked, its class
    assert s.step == 0 and s.model.n_in == 2
    click_map(qtbot, panel, 0.5, -0.25, modifier=QtCore.Qt.KeyboardModifier.ShiftModifier)
    s = w.controller.session
    assert s.config["task"]["n_samples"] == 41
    x, _ = all_points(s)
    assert np.hypot(x[:, 0] - 0.5, x[:, 1] + 0.25).min() > 0.01
    # the new set trains through the real trainer thread
    w.controller.play()
    qtbot.waitUntil(lambda: s.step > 20, timeout=10_000)
    w.controller.pause()


def test_import_csv_from_the_file_menu(qtbot, make_window, tmp_path):
    w = make_window(XOR)
    pts = [(0.1 * i, -0.1 * i, i % 3) for i in range(-8, 8)]
    path = tmp_path / "mine.csv"
    path.write_text("x1,x2,label\n" + "\n".join(f"{a},{b},{c}" for a, b, c in pts))
    assert w.files.import_action.text().startswith("&Import data")
    assert w.files.import_csv(path)
    s = w.controller.session
    assert s.config["task"]["name"] == "own" and s.data.info.n_classes == 3 and s.model.n_out == 3
    x, y = all_points(s)
    assert sorted(zip(x[:, 0].round(9), x[:, 1].round(9), y)) == sorted((round(a, 9), round(b, 9), c)
                                                                        for a, b, c in pts)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,0\n" * 5 + "1,oops,1\n" + "1,2,1\n" * 5)
    assert not w.files.import_csv(bad)
    assert "row 6, column 2" in w.banner.text.text()
    assert w.controller.session is s  # the run is kept
