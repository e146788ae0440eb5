"""Save / Open from the window, and every export: PNG, SVG, CSV, GIF, summary, PyTorch script.

Files are written from the real window (its File menu actions with patched dialogs, or the actions'
dialog-free methods) and read back with independent readers: QImage for PNG sizes, xml.etree for
SVG, the csv module for tables, Pillow for the GIF's frame count, a torch subprocess for the script.
"""
from __future__ import annotations

import csv
import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6 import QtGui, QtWidgets

from gradplay.core import config as config_mod
from gradplay.core.export import history_columns
from gradplay.core.session import Session
from gradplay.gui import export_dialog, exporters, file_actions, gif
from gradplay.gui.main_window import MainWindow

# Mini-batches, so continuing exactly needs the batch stream's state too.
MOONS = {"seed": 2, "task": {"kind": "dataset", "name": "moons", "n_samples": 120},
         "network": {"hidden": [6, 5]}, "optimizer": {"name": "adam", "lr": 0.02},
         "training": {"batch_size": 16}, "meta": {"title": "Moons for the tests"}}
FULL_BATCH = {"seed": 4, "task": {"kind": "dataset", "name": "gauss", "n_samples": 80},
              "network": {"hidden": [5]}, "optimizer": {"name": "adam", "lr": 0.05},
              "training": {"batch_size": "full"}}
ROSENBROCK = {"task": {"kind": "function", "name": "rosenbrock", "start": [-1.5, 2.0]},
              "optimizer": {"name": "adam", "lr": 0.05}}
SVG = "{http://www.w3.org/2000/svg}"


def trained(make_window, raw: dict, steps: int) -> MainWindow:
    w = make_window(raw)
    w.controller.run_steps(steps, frames=5)
    return w


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(e.itertext()).strip() for e in root.iter(f"{SVG}text")]


# ----------------------------------------------------------------------------- save and open
def test_save_from_the_window_and_open_in_a_fresh_one_continues_identically(make_window, tmp_path,
                                                                            monkeypatch):
    w = trained(make_window, MOONS, 40)
    assert w.isWindowModified(), "40 unsaved steps"
    target = tmp_path / "moons run.gradplay"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), file_actions.SAVE_FILE_FILTER))
    w.files.save_action.trigger()  # no file yet: Ctrl+S asks where (the patched dialog)
    assert target.is_file() and not w.isWindowModified()
    assert w.windowTitle() == "moons run.gradplay[*] — gradplay"

    other = make_window(ROSENBROCK)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    other.files.open_action.trigger()
    s, back = w.controller.session, other.controller.session
    assert back.step == 40 and back.config == s.config
    assert other.files.path == target.resolve() and not other.isWindowModified()
    for name in ("batch_curve", "train_curve", "test_curve"):  # the same curves are drawn
        a, b = getattr(w.panels["loss"], name), getattr(other.panels["loss"], name)
        assert np.array_equal(a.xData, b.xData) and np.array_equal(a.yData, b.yData), name

    w.controller.run_steps(25)
    other.controller.run_steps(25)
    one_go = Session(config_mod.resolve(MOONS))
    one_go.run(65)
    for session in (s, back):
        assert np.array_equal(session.theta, one_go.theta)
        assert np.array_equal(session.history.get("loss"), one_go.history.get("loss"))
    assert other.isWindowModified()
    other.files.save()  # Ctrl+S now saves over the opened file, without asking
    assert not other.isWindowModified()
    assert file_actions.io.load_session(target).step == 65


def test_title_shows_the_file_and_an_unsaved_marker(make_window, tmp_path):
    w = make_window(MOONS)
    assert w.windowTitle() == "Moons for the tests[*] — gradplay" and not w.isWindowModified()
    w.controller.step_once()
    assert w.isWindowModified()
    assert w.files.save_to(tmp_path / "folder_session")  # no .gradplay suffix: a session folder
    assert (tmp_path / "folder_session" / "session.json").is_file()
    assert w.windowTitle().startswith("folder_session[*]") and not w.isWindowModified()
    w.controller.reset()
    assert w.isWindowModified(), "back at step 0 differs from the saved step 1"
    w.controller.step_once()
    assert not w.isWindowModified(), "the same seed brings back exactly the saved state"
    assert w.files.open_path(tmp_path / "folder_session" / "session.json")
    assert w.files.path == (tmp_path / "folder_session").resolve()
    w.load_preset("rosenbrock_adam")  # another run in the window: Ctrl+S must not overwrite the file
    assert w.files.path is None and not w.isWindowModified()
    title = w.controller.session.config["meta"]["title"]
    assert w.windowTitle() == f"{title}[*] — gradplay"


def test_open_accepts_configs_and_a_failed_save_is_reported(make_window, tmp_path):
    w = make_window(MOONS)
    toml = tmp_path / "bowl.toml"
    toml.write_text(config_mod.dumps(config_mod.resolve(ROSENBROCK)))
    assert w.files.open_path(toml)
    assert w.controller.session.kind == "function" and w.files.path is None
    blocker = tmp_path / "plain_file"
    blocker.write_text("not a folder")
    assert not w.files.save_to(blocker)
    assert w.banner.isVisible() and "Could not save" in w.banner.text.text()
    assert blocker.read_text() == "not a folder"


# ----------------------------------------------------------------------------- pictures
@pytest.mark.parametrize("raw", [MOONS, ROSENBROCK], ids=["dataset", "landscape"])
def test_each_panel_exports_png_at_the_asked_size(make_window, tmp_path, raw):
    w = trained(make_window, raw, 30)
    names = list(exporters.exportable_panels(w))
    assert "setup" not in names and ("weights" in names) == (raw is MOONS)
    for name in names:
        for pixels, scale in (((1000, 700), 2.0), ((333, 251), 2.0)):  # small: the scale gives way
            path = w.files.export_panel_png(name, tmp_path / f"{name}_{pixels[0]}.png", pixels, scale)
            image = QtGui.QImage(str(path))
            assert (image.width(), image.height()) == pixels, name
            colours = {image.pixel(x, y) for x in range(0, pixels[0], 17) for y in range(0, pixels[1], 17)}
            assert len(colours) > 10, f"{name} is blank"
    default = QtGui.QImage(str(w.files.export_panel_png("loss", tmp_path / "loss.png")))
    lw, lh = exporters.export_sizes("loss")
    assert (default.width(), default.height()) == (2 * lw, 2 * lh)


def test_svg_parses_and_keeps_titles_and_labels_as_text(make_window, tmp_path):
    w = trained(make_window, MOONS, 30)
    for name in exporters.exportable_panels(w):
        texts = svg_texts(w.files.export_panel_svg(name, tmp_path / f"{name}.svg"))
        assert w.panels[name].title in texts, f"{name}: header missing"
    loss = svg_texts(tmp_path / "loss.svg")
    assert {"Loss (bce)", "step", "loss", "batch loss (faint: raw)", "test"} <= set(loss)  # title, axes, legend
    landscape = svg_texts(tmp_path / "landscape.svg")
    assert any("over the input plane" in t for t in landscape) and "x₁" in landscape


def test_summary_image(make_window, tmp_path):
    from gradplay.gui import summary

    w = trained(make_window, MOONS, 30)
    path = w.files.export_summary(tmp_path / "summary.png")
    image = QtGui.QImage(str(path))
    sw, sh = summary.PAGE_SIZE
    assert (image.width(), image.height()) == (round(sw * summary.PAGE_SCALE), round(sh * summary.PAGE_SCALE))
    rows = dict(summary.key_numbers(w.controller.session))
    assert rows["step"] == "30" and "test accuracy" in rows
    text = summary.config_text(w.controller.session.config)
    assert "[optimizer]" in text and "[meta]" not in text


# ----------------------------------------------------------------------------- data
def test_history_csv_has_a_row_per_recorded_step_and_a_named_column_per_number(make_window, tmp_path):
    w = trained(make_window, MOONS, 37)
    s = w.controller.session
    hist, evals = w.files.export_csv(tmp_path / "run.csv")
    with open(hist, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == history_columns(s) and len(rows) - 1 == len(s.history) == 37
    assert all(len(r) == len(rows[0]) for r in rows)
    assert "grad_norm_layer3" in rows[0]
    assert [float(r[rows[0].index("loss")]) for r in rows[1:]] == s.history.get("loss").tolist()
    with open(evals, newline="") as f:
        erows = list(csv.reader(f))
    assert erows[0][0] == "step" and len(erows) - 1 == len(s.evals)


# ----------------------------------------------------------------------------- GIF
def test_landscape_gif_has_one_frame_per_k_steps(make_window, tmp_path, pil_image):
    w = trained(make_window, ROSENBROCK, 37)
    path = w.files.export_gif(tmp_path / "path.gif", every=5)
    with pil_image.open(path) as im:
        assert im.n_frames == len(gif.frame_steps(37, 5)) == 9
        assert im.is_animated and im.size == gif.FRAME_SIZE


def test_dataset_gif_replays_the_run(make_window, tmp_path, pil_image):
    w = trained(make_window, FULL_BATCH, 12)
    notes: list[str] = []
    path = w.files.export_gif(tmp_path / "map.gif", every=4, notes=notes)
    with pil_image.open(path) as im:
        assert im.n_frames == 4  # steps 0, 4, 8, 12
    assert notes == [], "an unchanged run is replayed exactly"
    assert w.controller.session.step == 12, "the live session is not touched"
    cfg = config_mod.with_changes(w.controller.session.config, optimizer={"lr": 0.2})
    w.controller.apply_config(cfg)  # same problem, new lr: training continues from here
    w.controller.run_steps(4)
    w.files.export_gif(tmp_path / "changed.gif", every=8, notes=notes)
    assert notes == [], "an edited run is replayed with its edits, exactly"


@pytest.mark.usefixtures("pil_image")
def test_gif_export_can_be_cancelled(make_window, tmp_path):
    w = trained(make_window, ROSENBROCK, 30)
    seen = []

    def progress(done: int, total: int) -> bool:
        seen.append((done, total))
        return done < 2

    assert w.files.export_gif(tmp_path / "no.gif", every=3, progress=progress) is None
    assert seen == [(1, 11), (2, 11)] and not (tmp_path / "no.gif").exists()
    assert gif.frame_steps(0, 5) == [0] and gif.frame_steps(10, 5) == [0, 5, 10]


# ----------------------------------------------------------------------------- everything, from the menu
def test_export_everything_from_the_menu(make_window, tmp_path, monkeypatch, pil_image):
    w = trained(make_window, ROSENBROCK, 20)
    out = tmp_path / "all"
    monkeypatch.setattr(export_dialog.ExportDialog, "ask", lambda self: True)
    monkeypatch.setattr(export_dialog.ExportDialog, "values", lambda self: {
        "path": out, "pixels": None, "scale": 1.0, "every": 10, "formats": list(exporters.FORMATS)})
    w.files.export_all_action.trigger()
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["landscape.png", "loss.png", "gradients.png", "landscape.svg", "loss.svg",
                            "gradients.svg", "history.csv", "evals.csv", "timeline.csv", "train_torch.py",
                            "summary.png", "landscape.gif"])
    assert "12 files" in w.statusBar().currentMessage()
    with pil_image.open(out / "landscape.gif") as im:
        assert im.n_frames == 3
    menu = w.files.export_menu
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions()]
    assert "Panel as &PNG" in texts and "&PyTorch script…" in texts


def test_export_dialog_values(qtbot, tmp_path):
    dlg = export_dialog.ExportDialog(None, "x", tmp_path / "pic", "PNG image (*.png)", pixels=(800, 600),
                                    scale=2.0, steps=95)
    qtbot.addWidget(dlg)
    dlg.scale_spin.setValue(3.0)  # the layout stays, the pixel count follows the scale
    v = dlg.values()
    assert v["path"] == tmp_path / "pic.png" and v["pixels"] == (1200, 900) and v["scale"] == 3.0
    assert v["every"] == gif.default_every(95) and "frames" in dlg.frames_label.text()


# ----------------------------------------------------------------------------- PyTorch script
def _script_losses(path) -> np.ndarray:
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return np.array([float(m) for m in re.findall(r"^step \d+ loss (\S+)$", done.stdout, re.M)])


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed here")
@pytest.mark.parametrize("raw", [FULL_BATCH, ROSENBROCK], ids=["full-batch", "landscape"])
def test_pytorch_script_reproduces_the_losses(make_window, tmp_path, raw):
    w = trained(make_window, raw, 25)
    path = w.files.export_torch(tmp_path / "train_torch.py")
    got = _script_losses(path)
    ref = w.controller.session.history.get("loss")
    assert len(got) == len(ref) == 25
    assert np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)) <= 1e-8
