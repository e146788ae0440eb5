"""Tests for gradplay.core.datasets: shapes, balance, splits, seeding and each dataset's geometry."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradplay.core.datasets import DATASETS, LABEL_FORMATS, Dataset, label_format_for, make_dataset

CLASSIFICATION = [n for n, d in DATASETS.items() if d.kind == "classification"]
REGRESSION = [n for n, d in DATASETS.items() if d.kind == "regression"]
EXPECTED_LABELS = {"binary": {0.0, 1.0}, "pm1": {-1.0, 1.0}}


def rng(seed=0):
    return np.random.default_rng(seed)


def all_points(d: Dataset):
    return np.concatenate([d.x_train, d.x_test]), np.concatenate([d.y_train, d.y_test])


def class_index(d: Dataset, y):
    """Labels of any class format back to class indices."""
    return {"binary": y, "pm1": (y + 1) / 2, "index": y}[d.labels].astype(np.int64)


def test_registry():
    assert set(DATASETS) == {"circles", "xor", "gauss", "spiral", "moons", "blobs3", "blobs", "checkerboard",
                             "sine", "plane"}
    assert LABEL_FORMATS == ("binary", "pm1", "index", "real")
    for name, info in DATASETS.items():
        assert info.name == name and info.title and info.description
        assert info.kind in ("classification", "regression")
        assert info.n_classes == {"blobs3": 3, "blobs": 4}.get(name, 0 if info.kind == "regression" else 2)
        xmin, xmax, ymin, ymax = info.view
        assert xmin < xmax and ymin < ymax


@pytest.mark.parametrize("name", DATASETS)
def test_shapes_dtypes_and_default_labels(name):
    d = make_dataset(name, n_samples=101, noise=0.2, test_fraction=0.3, rng=rng())
    info = DATASETS[name]
    assert d.info is info
    assert d.labels == ("real" if info.kind == "regression" else "index" if info.n_classes > 2 else "binary")
    n_train, n_test = len(d.x_train), len(d.x_test)
    assert n_train + n_test == 101 and n_train >= 1
    assert d.x_train.shape == (n_train, 2) and d.x_test.shape == (n_test, 2)
    assert d.y_train.shape == (n_train,) and d.y_test.shape == (n_test,)
    assert d.x_train.dtype == d.x_test.dtype == np.float64
    y_dtype = np.int64 if d.labels == "index" else np.float64
    assert d.y_train.dtype == d.y_test.dtype == y_dtype
    assert np.all(np.isfinite(d.x_train)) and np.all(np.isfinite(d.y_train))


@pytest.mark.parametrize("name, labels", [
    (name, labels) for name in CLASSIFICATION for labels in ("binary", "pm1", "index")
    if DATASETS[name].n_classes == 2 or labels == "index"  # 3 classes take only index labels
])
def test_label_sets(name, labels):
    d = make_dataset(name, n_samples=200, rng=rng(), labels=labels)
    _, y = all_points(d)
    expected = EXPECTED_LABELS.get(labels, set(range(DATASETS[name].n_classes)))
    assert set(np.unique(d.y_train).tolist()) == expected
    assert set(np.unique(d.y_test).tolist()) == expected
    assert set(np.unique(y).tolist()) == expected


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_formats_hold_the_same_classes(name):
    """The label format changes only the encoding, not the draw."""
    ds = [make_dataset(name, rng=rng(3), labels=f)
          for f in (["index"] if DATASETS[name].n_classes > 2 else ["binary", "pm1", "index"])]
    for d in ds[1:]:
        np.testing.assert_array_equal(d.x_train, ds[0].x_train)
        np.testing.assert_array_equal(class_index(d, d.y_train), class_index(ds[0], ds[0].y_train))


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(CLASSIFICATION), n=st.integers(10, 3000),
       test_fraction=st.floats(0.0, 0.99), seed=st.integers(0, 2**32 - 1))
def test_balance_and_stratified_split(name, n, test_fraction, seed):
    d = make_dataset(name, n_samples=n, test_fraction=test_fraction, rng=rng(seed), labels="index")
    k = d.info.n_classes
    train = np.bincount(d.y_train, minlength=k)
    test = np.bincount(d.y_test, minlength=k)
    total = train + test
    assert total.sum() == n
    assert total.max() - total.min() <= 1
    np.testing.assert_array_equal(total, n // k + (np.arange(k) < n % k))  # remainder to first classes
    assert np.all(np.abs(test - total * test_fraction) <= 1)  # test share per class, +-1
    assert np.all(train >= 1)
    # Train and test shares of each class agree with the overall share, +-1 point.
    share = total / n
    assert np.all(np.abs(train - share * train.sum()) <= 1 + 1e-9)
    assert np.all(np.abs(test - share * test.sum()) <= 1 + 1e-9)


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(REGRESSION), n=st.integers(10, 3000), test_fraction=st.floats(0.0, 0.99))
def test_regression_split(name, n, test_fraction):
    d = make_dataset(name, n_samples=n, test_fraction=test_fraction, rng=rng())
    assert len(d.x_train) + len(d.x_test) == n
    assert len(d.x_train) >= 1
    assert abs(len(d.x_test) - n * test_fraction) <= 1


def test_extreme_test_fraction_keeps_training_points():
    d = make_dataset("blobs3", n_samples=10, test_fraction=0.999, rng=rng())
    assert set(np.unique(d.y_train).tolist()) == {0, 1, 2}
    d = make_dataset("xor", n_samples=10, test_fraction=0.0, rng=rng())
    assert len(d.x_train) == 10 and len(d.x_test) == 0 and d.x_test.shape == (0, 2)


@pytest.mark.parametrize("name", DATASETS)
def test_seed_determinism_and_sensitivity(name):
    a = make_dataset(name, noise=0.3, rng=rng(7))
    b = make_dataset(name, noise=0.3, rng=rng(7))
    c = make_dataset(name, noise=0.3, rng=rng(8))
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()
    assert not np.array_equal(a.x_train, c.x_train)
    # The default rng is seed 0.
    np.testing.assert_array_equal(make_dataset(name).x_train, make_dataset(name, rng=rng(0)).x_train)


@pytest.mark.parametrize("name", DATASETS)
def test_training_order_is_shuffled(name):
    d = make_dataset(name, n_samples=400, rng=rng(), labels="real" if name in REGRESSION else "index")
    if name in REGRESSION:
        assert not np.all(np.diff(d.x_train[:, 0]) >= 0)
    else:
        # Classes are interleaved: the first 40 training points hold every class.
        assert len(np.unique(d.y_train[:40])) == d.info.n_classes
        assert not np.all(np.diff(d.y_train) >= 0)


@pytest.mark.parametrize("name", DATASETS)
def test_points_inside_view(name):
    d = make_dataset(name, n_samples=4000, noise=0.5, rng=rng())
    x, _ = all_points(d)
    xmin, xmax, ymin, ymax = d.info.view
    inside = (x[:, 0] >= xmin) & (x[:, 0] <= xmax) & (x[:, 1] >= ymin) & (x[:, 1] <= ymax)
    assert inside.mean() >= 0.99
    # Noise-free inputs lie in [-1, 1]² (the blob sets are Gaussian even at noise 0).
    if name not in ("gauss", "blobs3", "blobs"):
        x0, _ = all_points(make_dataset(name, n_samples=4000, noise=0.0, rng=rng()))
        assert np.all(np.abs(x0) <= 1.0 + 1e-12)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_noise_moves_inputs(name):
    a = make_dataset(name, noise=0.0, rng=rng(), labels="index")
    b = make_dataset(name, noise=0.5, rng=rng(), labels="index")
    # Same draws, same split; only the jitter differs.
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert 0 < np.abs(a.x_train - b.x_train).mean() < 0.5


# ---- Regression formulas, recomputed independently -------------------------------------------

FORMULAS = {
    "sine": lambda x: np.sin(np.pi * x[:, 0]) * np.cos(np.pi * x[:, 1]),
    "plane": lambda x: 0.6 * x[:, 0] - 0.4 * x[:, 1],
}


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_targets_follow_formula(name):
    d = make_dataset(name, n_samples=1000, noise=0.0, rng=rng())
    x, y = all_points(d)
    np.testing.assert_allclose(y, FORMULAS[name](x), rtol=0, atol=1e-12)
    assert np.all(np.abs(x) <= 1.0) and np.all(np.abs(y) <= 1.0)
    # Inputs cover the square.
    assert x.min() < -0.95 and x.max() > 0.95


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_noise_is_target_std(name):
    d = make_dataset(name, n_samples=20000, noise=0.3, rng=rng())
    x, y = all_points(d)
    residual = y - FORMULAS[name](x)
    assert abs(residual.mean()) < 0.01
    assert abs(residual.std() - 0.3) < 0.01


def test_sine_needs_both_inputs_nonlinearly():
    x, y = all_points(make_dataset("sine", n_samples=4000, noise=0.0, rng=rng()))
    # The best affine fit explains almost nothing, unlike on the plane.
    design = np.column_stack([x, np.ones(len(x))])
    fit = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    assert 1 - np.var(y - fit) / np.var(y) < 0.5


# ---- Classification geometry, from first principles -------------------------------------------

def noise_free(name, n=2000):
    d = make_dataset(name, n_samples=n, noise=0.0, rng=rng(), labels="index")
    return all_points(d)


def test_circles_inner_disc_inside_outer_ring():
    x, y = noise_free("circles")
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[y == 1].max() < r[y == 0].min()
    assert r[y == 1].max() <= 0.4 + 1e-12 and r[y == 0].min() >= 0.7 - 1e-12 and r.max() <= 1 + 1e-12


def test_xor_labels_are_quadrant_signs():
    x, y = noise_free("xor")
    assert np.all(np.abs(x) >= 0.05 - 1e-12)  # a margin away from the axes
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(np.int64))
    # All four quadrants are used.
    assert len(np.unique(np.sign(x), axis=0)) == 4


@pytest.mark.parametrize("name, centres", [
    ("gauss", [[-0.5, -0.5], [0.5, 0.5]]),
    ("blobs3", [[0.0, 0.6], [-0.6 * np.sqrt(3) / 2, -0.3], [0.6 * np.sqrt(3) / 2, -0.3]]),
])
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_blob_means_near_centres(name, centres, noise):
    d = make_dataset(name, n_samples=6000, noise=noise, rng=rng(), labels="index")
    x, y = all_points(d)
    for c, centre in enumerate(centres):
        np.testing.assert_allclose(x[y == c].mean(axis=0), centre, atol=0.03)
    if noise == 0.0:  # each blob has std 0.2 at noise 0
        for c in range(len(centres)):
            np.testing.assert_allclose(x[y == c].std(axis=0), 0.2, atol=0.01)


def test_spiral_points_lie_on_their_arm():
    x, y = noise_free("spiral")
    r = np.hypot(x[:, 0], x[:, 1])
    # Arm of class c: angle = 3.5π·r + c·π (mod 2π).
    expected = 3.5 * np.pi * r + np.pi * y
    angle = np.arctan2(x[:, 1], x[:, 0])
    np.testing.assert_allclose(np.cos(angle - expected), 1.0, atol=1e-9)
    assert r.max() <= 1.0 + 1e-12 and r.max() > 0.95


def test_moons_points_lie_on_their_half_circle():
    x, y = noise_free("moons")
    u = x / (2.0 / 3.0) + [0.5, 0.25]  # undo the documented shift and scale
    upper, lower = u[y == 0], u[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_checkerboard_cells_alternate():
    x, y = noise_free("checkerboard", n=4000)
    cell = np.floor((x + 1.0) / 0.5).astype(int)
    assert cell.min() >= 0 and cell.max() <= 3
    np.testing.assert_array_equal(y, (cell[:, 0] + cell[:, 1]) % 2)
    assert (cell[:, 0] + cell[:, 1] == 0).any() and y[(cell[:, 0] == 0) & (cell[:, 1] == 0)].max() == 0
    # All 16 cells are populated, roughly evenly (250 points each on average).
    counts = np.bincount(cell[:, 0] * 4 + cell[:, 1], minlength=16)
    assert counts.min() > 150


# ---- Errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(name="moon"), "unknown dataset 'moon'; choose one of circles, xor"),
    (dict(name="xor", n_samples=9), "n_samples must be between 10 and 100000"),
    (dict(name="xor", n_samples=100_001), "n_samples must be between 10 and 100000"),
    (dict(name="xor", n_samples=100.0), "n_samples must be an integer"),
    (dict(name="xor", noise=-0.1), "noise must be between 0 and 1"),
    (dict(name="xor", noise=1.5), "noise must be between 0 and 1"),
    (dict(name="xor", noise=float("nan")), "noise must be between 0 and 1"),
    (dict(name="xor", test_fraction=1.0), r"test_fraction must be in \[0, 1\)"),
    (dict(name="xor", test_fraction=-0.1), r"test_fraction must be in \[0, 1\)"),
    (dict(name="xor", labels="onehot"), "labels must be one of binary, pm1, index, real, not 'onehot'"),
    (dict(name="circles", labels="real"), "'circles' is a classification set: labels must be 'binary'"),
    (dict(name="blobs3", labels="binary"), "'blobs3' has 3 classes: labels 'binary' need 2 classes"),
    (dict(name="blobs3", labels="pm1"), "'blobs3' has 3 classes: labels 'pm1' need 2 classes"),
    (dict(name="sine", labels="index"), "'sine' is a regression set: labels must be 'real', not 'index'"),
    (dict(name="plane", labels="binary"), "'plane' is a regression set"),
])
def test_make_dataset_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(**kwargs)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        make_dataset("xor", rng=0)


def test_boundary_values_are_accepted():
    make_dataset("xor", n_samples=10, noise=0.0, test_fraction=0.0)
    make_dataset("spiral", n_samples=100_000, noise=1.0, test_fraction=0.5)


# ---- label_format_for ---------------------------------------------------------------------------

@pytest.mark.parametrize("loss, name, expected", [
    ("bce", "circles", "binary"), ("cross_entropy", "circles", "index"), ("hinge", "xor", "pm1"),
    ("mse", "spiral", "pm1"), ("mae", "moons", "pm1"), ("huber", "checkerboard", "pm1"),
    ("cross_entropy", "blobs3", "index"),
    ("mse", "sine", "real"), ("mae", "plane", "real"), ("huber", "sine", "real"),
])
def test_label_format_for(loss, name, expected):
    fmt = label_format_for(loss, DATASETS[name])
    assert fmt == expected
    make_dataset(name, n_samples=20, labels=fmt)  # the format is one make_dataset accepts


@pytest.mark.parametrize("loss, name, match", [
    ("cross_entropy", "sine", "cross_entropy needs a classification dataset; 'sine' is a regression "
                              "set: use mse, mae or huber"),
    ("bce", "plane", "bce needs a classification dataset; 'plane' is a regression set"),
    ("hinge", "sine", "hinge needs a classification dataset"),
    ("mse", "blobs3", "blobs3 has 3 classes: use cross_entropy"),
    ("bce", "blobs3", "blobs3 has 3 classes: use cross_entropy"),
    ("hinge", "blobs3", "blobs3 has 3 classes: use cross_entropy"),
    ("huber", "blobs3", "blobs3 has 3 classes: use cross_entropy"),
    ("nll", "xor", "unknown loss 'nll'; choose one of mse, mae, huber, bce, cross_entropy, hinge"),
])
def test_label_format_for_errors(loss, name, match):
    with pytest.raises(ValueError, match=match):
        label_format_for(loss, DATASETS[name])


def test_k_classes_spiral_arms_and_blobs():
    from gradplay.core.datasets import info_for

    two = make_dataset("spiral", 300, rng=rng(5))
    again = make_dataset("spiral", 300, rng=rng(5), classes=2)
    np.testing.assert_array_equal(two.x_train, again.x_train)  # two arms: the set as it always was
    for k in (3, 6):
        d = make_dataset("spiral", 600, noise=0.0, rng=rng(5), labels="index", classes=k)
        x, y = all_points(d)
        assert d.info.n_classes == k and set(y.tolist()) == set(range(k)) and "arms" in d.info.title
        # arm c at radius r sits at angle 3.5πr + 2πc/k: rotating a point back by its arm's offset
        # puts every arm on the first one
        r = np.hypot(x[:, 0], x[:, 1])
        back = np.angle((x[:, 0] + 1j * x[:, 1]) * np.exp(-1j * 2 * np.pi * y / k))
        np.testing.assert_allclose(np.cos(back), np.cos(3.5 * np.pi * r), atol=1e-9)
    blobs = make_dataset("blobs", 900, noise=0.0, rng=rng(2), labels="index", classes=5)
    x, y = all_points(blobs)
    for c in range(5):
        a = np.radians(90 + 72 * c)
        np.testing.assert_allclose(x[y == c].mean(axis=0), 0.6 * np.array([np.cos(a), np.sin(a)]), atol=0.05)
    three = make_dataset("blobs", 300, rng=rng(1), labels="index", classes=3)
    np.testing.assert_array_equal(three.x_train, make_dataset("blobs3", 300, rng=rng(1)).x_train)
    with pytest.raises(ValueError, match="can be set for spiral"):
        info_for("circles", 3)
    with pytest.raises(ValueError, match="spiral \\(2 to 6\\)"):
        info_for("spiral", 7)
