"""History CSV export: one row per kept step, named columns, values that read back exactly."""
import csv
import io
import math

import numpy as np
import pytest

from gradplay.core import export

MOONS = {"task": {"name": "moons", "n_samples": 60}, "network": {"hidden": [5, 4]},
         "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 16}}
ROSENBROCK = {"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "adam", "lr": 0.05}}


def parse(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def column(header, rows, name) -> np.ndarray:
    i = header.index(name)
    return np.array([float(r[i]) for r in rows])


def test_dataset_history_has_a_row_per_step_and_per_layer_columns(make_session):
    s = make_session(**MOONS)
    s.run(25)
    header, rows = parse(export.history_csv(s))
    layers = [f"layer{i}" for i in (1, 2, 3)]
    assert header == (["step", "loss", "lr"] + [f"grad_norm_{k}" for k in layers]
                      + [f"weight_norm_{k}" for k in layers] + [f"update_ratio_{k}" for k in layers])
    assert header == export.history_columns(s)
    assert len(rows) == len(s.history) == 25
    assert all(len(r) == len(header) for r in rows)
    assert [int(r[0]) for r in rows] == list(range(25))


def test_values_round_trip_exactly(make_session):
    s = make_session(**MOONS)
    s.run(30)
    header, rows = parse(export.history_csv(s))
    h = s.history
    assert np.array_equal(column(header, rows, "loss"), h.get("loss"))
    assert np.array_equal(column(header, rows, "lr"), h.get("lr"))
    for name in ("grad_norm", "weight_norm", "update_ratio"):
        got = np.column_stack([column(header, rows, f"{name}_layer{i + 1}") for i in range(s.n_layers)])
        assert np.array_equal(got, h.get(name))  # bit for bit: repr round-trips a float64


def test_landscape_history_names_the_point_and_keeps_plain_names(make_session):
    s = make_session(**ROSENBROCK)
    s.run(12)
    header, rows = parse(export.history_csv(s))
    assert header == ["step", "loss", "lr", "grad_norm", "weight_norm", "update_ratio", "x", "y"]
    assert len(rows) == 12
    for name in header[1:]:
        assert np.array_equal(column(header, rows, name), s.history.get(name))
    assert (float(rows[0][header.index("x")]), float(rows[0][header.index("y")])) == (-1.5, 2.0)


def test_rows_are_the_kept_steps_after_thinning(make_session):
    s = make_session(task={"kind": "function", "name": "quadratic"}, optimizer={"name": "sgd", "lr": 1e-4})
    s.run(s.history.capacity + 808)  # one thinning of the older half
    header, rows = parse(export.history_csv(s))
    assert len(s.history) < s.step
    assert len(rows) == len(s.history)
    assert np.array_equal([int(r[0]) for r in rows], s.history.get_steps())
    assert int(rows[1][0]) - int(rows[0][0]) == 2 and int(rows[-1][0]) == s.step - 1
    assert np.array_equal(column(header, rows, "loss"), s.history.get("loss"))


def test_a_network_without_hidden_layers_still_gets_layer_columns(make_session):
    s = make_session(task={"name": "gauss", "n_samples": 40}, network={"hidden": []},
                     training={"batch_size": "full"})
    s.run(3)
    header, rows = parse(export.history_csv(s))
    assert header == ["step", "loss", "lr", "grad_norm_layer1", "weight_norm_layer1", "update_ratio_layer1"]
    assert np.array_equal(column(header, rows, "grad_norm_layer1"), s.history.get("grad_norm"))


def test_an_untrained_session_gives_the_header_only(make_session):
    s = make_session(**MOONS)
    header, rows = parse(export.history_csv(s))
    assert rows == [] and header == export.history_columns(s)


def test_evals_csv_with_nan_accuracy_on_regression(make_session):
    s = make_session(task={"name": "sine", "n_samples": 50}, network={"hidden": [4]},
                     optimizer={"name": "adam", "lr": 0.01})
    for _ in range(3):
        s.run(5)
        s.evaluate()
    header, rows = parse(export.evals_csv(s))
    assert header == ["step", "train_loss", "test_loss", "train_acc", "test_acc"]
    assert [int(r[0]) for r in rows] == [5, 10, 15]
    for name in header[1:]:
        assert np.array_equal(column(header, rows, name), s.evals.get(name), equal_nan=True)
    assert math.isnan(column(header, rows, "test_acc")[0])


def test_non_finite_values_are_written_readably(make_session):
    s = make_session(**ROSENBROCK)
    s.run(2)
    s.history.data["loss"][1] = math.inf
    header, rows = parse(export.history_csv(s))
    assert rows[1][header.index("loss")] == "inf"


def test_write_contract_csvs_writes_the_files_atomically(make_session, tmp_path):
    s = make_session(**MOONS)
    s.run(8)
    s.evaluate()
    out = tmp_path / "exports" / "run1"
    paths = export.write_contract_csvs(s, out)
    assert paths["history"].read_text() == export.history_csv(s)
    assert paths["evals"].read_text() == export.evals_csv(s)
    assert paths["timeline"].read_text() == export.timeline_csv(s)
    assert sorted(p.name for p in out.iterdir()) == ["evals.csv", "history.csv", "timeline.csv"]  # no temp files
    s.run(4)
    export.write_history_csv(s, paths["history"])  # overwrites in place
    assert len(parse(paths["history"].read_text())[1]) == 12


def test_a_failed_write_keeps_the_previous_file(make_session, tmp_path, monkeypatch):
    s = make_session(**MOONS)
    s.run(3)
    path = export.write_history_csv(s, tmp_path / "h.csv")
    before = path.read_text()
    s.run(3)

    def boom(*args):
        raise OSError("disk full")
    monkeypatch.setattr("gradplay.core.io.os.replace", boom)
    with pytest.raises(OSError):
        export.write_history_csv(s, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["h.csv"]
