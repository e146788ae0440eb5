"""Landscapes: exact derivatives against finite differences, critical points against textbook values."""
import math

import numpy as np
import pytest

from gradplay.core.landscapes import LANDSCAPES, Landscape, get_landscape

SPEC_NAMES = ["quadratic", "ravine", "rosenbrock", "himmelblau", "beale", "booth", "saddle",
              "monkey_saddle", "six_hump_camel", "rastrigin", "ackley", "styblinski_tang"]

# Textbook global minima (value, and every global minimiser to 6 digits), independent of the module.
TEXTBOOK = {
    "quadratic": (0.0, [(0, 0)]),
    "ravine": (0.0, [(0, 0)]),
    "rosenbrock": (0.0, [(1, 1)]),
    "beale": (0.0, [(3, 0.5)]),
    "booth": (0.0, [(1, 3)]),
    "himmelblau": (0.0, [(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]),
    "six_hump_camel": (-1.0316284534898774, [(0.089842, -0.712656), (-0.089842, 0.712656)]),
    "styblinski_tang": (2 * -39.16616570377142, [(-2.903534, -2.903534)]),
    "rastrigin": (0.0, [(0, 0)]),
    "ackley": (0.0, [(0, 0)]),
}

ALL = sorted(LANDSCAPES)
H = 1e-4  # fourth-order stencil: truncation ~H⁴, rounding ~eps·|f|/H, both far below the tolerance
RTOL = 1e-6


def fd_gradient(fun, x, y, h=H):
    """Fourth-order central differences of a scalar function: (∂/∂x, ∂/∂y)."""
    def d(g):
        return (-g(2 * h) + 8 * g(h) - 8 * g(-h) + g(-2 * h)) / (12 * h)
    return np.array([d(lambda t: fun(x + t, y)), d(lambda t: fun(x, y + t))])


def assert_close(actual, expected, scale):
    """Relative error < RTOL, with an absolute floor of RTOL·max(1, scale) for near-zero components."""
    tol = RTOL * max(1.0, scale)
    assert np.all(np.abs(np.asarray(actual) - np.asarray(expected)) <= tol), (actual, expected, tol)


def random_points(L: Landscape, n=20):
    rng = np.random.default_rng(ALL.index(L.name))
    pts = np.column_stack([rng.uniform(*L.xrange, 4 * n), rng.uniform(*L.yrange, 4 * n)])
    if L.name == "ackley":  # the cone tip is not differentiable; keep away from it
        pts = pts[np.hypot(*pts.T) > 0.05]
    return pts[:n]


def test_every_spec_name_is_registered():
    for name in SPEC_NAMES:
        assert name in LANDSCAPES
        assert LANDSCAPES[name].name == name
        assert get_landscape(name) is LANDSCAPES[name]


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError) as err:
        get_landscape("foo")
    msg = str(err.value)
    assert "unknown landscape 'foo'" in msg
    assert all(name in msg for name in LANDSCAPES)


@pytest.mark.parametrize("name", ALL)
def test_metadata(name):
    L = LANDSCAPES[name]
    assert L.title and L.formula and L.description
    assert L.xrange[0] < L.xrange[1] and L.yrange[0] < L.yrange[1]
    assert isinstance(L.log_color, bool) and isinstance(L.fmin, float)


@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_finite_differences(name):
    L = LANDSCAPES[name]
    for x, y in random_points(L):
        g = L.gradient(np.array([x, y]))
        assert g.shape == (2,) and g.dtype == np.float64
        fd = fd_gradient(lambda a, b: L.value(np.array([a, b])), x, y)
        assert_close(g, fd, np.linalg.norm(fd))


@pytest.mark.parametrize("name", ALL)
def test_hessian_matches_finite_differences_and_is_symmetric(name):
    L = LANDSCAPES[name]
    for x, y in random_points(L):
        Hm = L.hessian(np.array([x, y]))
        assert Hm.shape == (2, 2) and Hm.dtype == np.float64
        assert Hm[0, 1] == Hm[1, 0]
        # Column k of the finite-difference Hessian differentiates ∂f/∂x_k.
        fd = np.column_stack([fd_gradient(lambda a, b, k=k: L.grad_fn(a, b)[k], x, y) for k in range(2)])
        assert_close(Hm, fd, np.abs(fd).max())


@pytest.mark.parametrize("name", ALL)
def test_derivative_functions_return_plain_floats(name):
    L = LANDSCAPES[name]
    x, y = L.start
    for out, n in ((L.grad_fn(x, y), 2), (L.hess_fn(x, y), 3)):
        assert isinstance(out, tuple) and len(out) == n
        assert all(type(v) is float for v in out)


@pytest.mark.parametrize("name", ALL)
def test_vectorised_f_matches_value(name):
    L = LANDSCAPES[name]
    pts = random_points(L)
    Z = L.f(pts[:, 0], pts[:, 1])
    assert Z.shape == (len(pts),)
    for (x, y), z in zip(pts, Z):
        assert z == pytest.approx(L.value(np.array([x, y])), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_grid_shape_and_orientation(name):
    L = LANDSCAPES[name]
    xs, ys, Z = L.grid(7, 5)
    assert xs.shape == (7,) and ys.shape == (5,) and Z.shape == (5, 7)
    assert (xs[0], xs[-1]) == L.xrange and (ys[0], ys[-1]) == L.yrange
    for j in range(5):
        for i in range(7):
            assert Z[j, i] == pytest.approx(L.value(np.array([xs[i], ys[j]])), rel=1e-12, abs=1e-12)
    # fmin is the global minimum or a lower bound over the view.
    assert L.fmin <= L.grid()[2].min() + 1e-12


@pytest.mark.parametrize("name", ALL)
def test_start_and_minima_inside_the_view(name):
    L = LANDSCAPES[name]
    for x, y in (L.start, *L.minima, *L.saddle_points):
        assert L.xrange[0] < x < L.xrange[1] and L.yrange[0] < y < L.yrange[1]
    assert np.linalg.norm(L.gradient(np.array(L.start))) > 1e-3  # the start is not already done


@pytest.mark.parametrize("name", ALL)
def test_minima_are_stationary_and_convex(name):
    L = LANDSCAPES[name]
    for p in L.minima:
        p = np.array(p)
        assert np.linalg.norm(L.gradient(p)) < 1e-8
        assert L.value(p) >= L.fmin - 1e-12
        if name != "ackley":  # the Hessian is undefined at the cone tip
            assert np.linalg.eigvalsh(L.hessian(p)).min() >= -1e-9
    if L.minima:
        assert L.value(np.array(L.minima[0])) == L.fmin


@pytest.mark.parametrize("name", ALL)
def test_saddle_points_are_stationary_and_not_minima(name):
    L = LANDSCAPES[name]
    for p in L.saddle_points:
        p = np.array(p)
        assert np.linalg.norm(L.gradient(p)) < 1e-8
        assert np.linalg.det(L.hessian(p)) <= 1e-12  # indefinite (< 0) or degenerate (= 0)


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_global_minima_match_textbook(name):
    L = LANDSCAPES[name]
    fmin, points = TEXTBOOK[name]
    assert L.fmin == pytest.approx(fmin, rel=1e-12, abs=1e-12)
    listed = np.array(L.minima)
    for p in points:  # every textbook minimiser is listed, to the textbook's precision
        assert np.abs(listed - p).max(axis=1).min() < 1e-6
        assert L.value(np.array(p, float)) == pytest.approx(fmin, abs=1e-9)


def test_critical_point_counts():
    counts = {n: (len(L.minima), len(L.saddle_points)) for n, L in LANDSCAPES.items()}
    assert counts["himmelblau"] == (4, 4)
    assert counts["six_hump_camel"] == (6, 1)
    assert counts["styblinski_tang"] == (4, 4)
    assert counts["saddle"] == counts["monkey_saddle"] == (0, 1)
    assert counts["rosenbrock"] == (1, 0)
    for L in LANDSCAPES.values():  # no duplicates from Newton refinement landing twice
        pts = np.array(L.minima + L.saddle_points).reshape(-1, 2)
        assert len(np.unique(pts.round(6), axis=0)) == len(pts)


def test_unbounded_landscapes_use_the_view_minimum():
    assert LANDSCAPES["saddle"].fmin == -4.0  # x² − y² on [−2, 2]², at (0, ±2)
    assert LANDSCAPES["monkey_saddle"].fmin == -16.0  # x³ − 3xy² on [−2, 2]², at (2, ±2)


def test_ackley_origin_is_handled():
    L = get_landscape("ackley")
    assert L.grad_fn(0.0, 0.0) == (0.0, 0.0)
    assert np.all(np.isfinite(L.hessian(np.zeros(2))))
    assert L.value(np.zeros(2)) == 0.0
    # Away from the tip the textbook form agrees with the module's regrouped one.
    x, y = 0.7, -1.3
    textbook = (-20 * math.exp(-0.2 * math.sqrt(0.5 * (x * x + y * y)))
                - math.exp(0.5 * (math.cos(2 * math.pi * x) + math.cos(2 * math.pi * y))) + math.e + 20)
    assert L.value(np.array([x, y])) == pytest.approx(textbook, rel=1e-13)


def test_formulas_against_textbook_at_a_point():
    x, y = 0.3, -0.7
    expected = {
        "quadratic": x**2 + y**2,
        "rosenbrock": (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "himmelblau": (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        "beale": (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
        "booth": (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
        "saddle": x**2 - y**2,
        "monkey_saddle": x**3 - 3 * x * y**2,
        "six_hump_camel": (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2,
        "rastrigin": 20 + sum(t**2 - 10 * math.cos(2 * math.pi * t) for t in (x, y)),
        "styblinski_tang": 0.5 * sum(t**4 - 16 * t**2 + 5 * t for t in (x, y)),
    }
    for name, v in expected.items():
        assert LANDSCAPES[name].value(np.array([x, y])) == pytest.approx(v, rel=1e-12, abs=1e-12)


def test_ravine_is_ill_conditioned():
    ev = np.linalg.eigvalsh(get_landscape("ravine").hessian(np.zeros(2)))
    assert 20 <= ev.max() / ev.min() <= 25
