"""Own data: the config's points are the dataset, a CSV is read or refused with the row and column
named, points added or removed make a new dataset, and the run, the save and the torch export carry it."""
import numpy as np
import pytest

from gradplay.core import config, headless, io, own_data, torch_script
from gradplay.core.config import ConfigError
from gradplay.core.own_data import DataError
from gradplay.core.session import Session

POINTS = [[0.1 * i, -0.05 * i, i % 2] for i in range(-10, 10)]


def own(points=POINTS, targets="classes", **task):
    return config.resolve({"task": {"name": "own", "points": points, "targets": targets, **task},
                           "network": {"hidden": [4]}, "training": {"batch_size": 4}})


def test_the_points_are_the_dataset():
    cfg = own(test_fraction=0.25)
    assert cfg["task"]["n_samples"] == 20 and cfg["task"]["classes"] == 2 and cfg["loss"]["name"] == "bce"
    s = Session(cfg)
    x = np.concatenate([s.data.x_train, s.data.x_test])
    y = np.concatenate([s.data.y_train, s.data.y_test])
    assert len(s.data.x_test) == 6  # of each class of 10, round(10 · 0.25) = 3 (halves up) to test
    got = sorted(map(tuple, np.column_stack([x, y]).tolist()))
    assert got == sorted(tuple(float(v) for v in p) for p in POINTS)
    assert s.data.info.view[1] >= 1.5 and s.data.info.title == "Your data"


def test_three_classes_and_a_regression():
    pts = [[i * 0.1, (i % 5) * 0.2, i % 3] for i in range(30)]
    cfg = own(pts)
    assert cfg["task"]["classes"] == 3 and cfg["loss"]["name"] == "cross_entropy"
    assert Session(cfg).model.n_out == 3
    reg = own([[i * 0.1, 0.0, 0.5 * i] for i in range(12)], "values")
    assert reg["loss"]["name"] == "mse" and Session(reg).data.info.kind == "regression"


@pytest.mark.parametrize("points, message", [
    (POINTS[:5], "10 to 10,000 points"),
    (POINTS[:9] + [[0.0, 0.0]], r"'task.points\[9\]' must be \[x1, x2, label\]"),
    (POINTS[:9] + [[0.0, 0.0, 7]], r"'task.points\[9\]\[2\]' = 7 is out of range"),
    (POINTS[:9] + [[0.0, "a", 1]], r"'task.points\[9\]\[1\]' must be a number"),
])
def test_bad_points_are_named(points, message):
    with pytest.raises(ConfigError, match=message):
        own(points)


def test_csv_with_and_without_a_header():
    rows = "\n".join(f"{p[0]},{p[1]},{p[2]}" for p in POINTS)
    pts, kind = own_data.read_csv(rows)
    assert kind == "classes" and pts == [[float(p[0]), float(p[1]), p[2]] for p in POINTS]
    pts, kind = own_data.read_csv("x1;x2;target\n" + rows.replace(",", ";"))
    assert kind == "values" and pts[0][2] == 0.0
    pts, kind = own_data.read_csv("\n".join(f"{i}\t{-i}\t{i * 0.5}" for i in range(12)))
    assert kind == "values"


@pytest.mark.parametrize("text, message", [
    ("1,2,0\n3,4\n", "row 2 has 2 columns"),
    ("a,b,label\n" + "1,2,0\n" * 5 + "1,x,1\n" + "1,2,1\n" * 5, "row 7, column 2: 'x' is not a number"),
    ("1,2,nan\n" * 12, "row 1, column 3: nan is not a finite number"),
    ("x1,x2,label\n" + "1,2,0\n" * 10 + "1,2,1.5\n", "row 12, column 3: 1.5 is not a class label"),
    ("1,2,0\n" * 3, "needs at least 10"),
    ("", "no rows"),
])
def test_bad_csv_files_name_the_row_and_column(text, message):
    with pytest.raises(DataError, match=message):
        own_data.read_csv(text)


def test_a_click_adds_or_removes_a_point_and_a_generated_set_becomes_own():
    s = Session(config.resolve({"task": {"name": "xor", "n_samples": 40}}))
    cfg = own_data.with_point(s, 0.3, -0.2, 1)
    assert cfg["task"]["name"] == "own" and cfg["task"]["n_samples"] == 41
    assert [0.3, -0.2, 1] in cfg["task"]["points"]
    s2 = Session(cfg)
    assert len(s2.data.x_train) + len(s2.data.x_test) == 41
    near = cfg["task"]["points"][0]
    back = own_data.without_point(s2, near[0] + 1e-3, near[1], radius=0.05)
    assert back["task"]["n_samples"] == 40 and near not in back["task"]["points"]
    assert own_data.without_point(s2, 50.0, 50.0, radius=0.05) is None
    with pytest.raises(DataError, match="class label"):
        own_data.with_point(s, 0.0, 0.0, 2.5)


def test_run_save_and_torch_export_carry_own_data(tmp_path):
    cfg = own()
    s = Session(cfg)
    arrays = headless.record(s, 30)
    io.write_run(tmp_path / "run", s, arrays)
    back = io.load_session(tmp_path / "run")
    assert back.config["task"]["points"] == cfg["task"]["points"] and back.step == 30
    assert np.array_equal(back.theta, s.theta)
    saved = io.save_session(s, tmp_path / "s.gradplay")
    assert io.load_session(saved).config["task"] == cfg["task"]
    script = torch_script.torch_script(cfg, steps=5)
    assert "X_TRAIN" in script and f"({len(s.data.x_train)}, 2)" in script
