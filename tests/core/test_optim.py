"""Optimizers: hand-worked updates, torch cross-checks, clipping, saving, validation.

Expected values are computed here from the update formulas with plain Python floats, one
coordinate at a time, never by calling gradplay. Where torch is installed the same runs are
compared with torch.optim step for step.
"""
import json
import math

import numpy as np
import pytest

from gradplay.core import optim, optimizers
from gradplay.core.optimizers import lbfgs

THETA0 = [1.0, -2.0]
GRADS = [[0.5, -1.0], [0.3, 0.2], [-0.4, 0.8]]  # the gradient at each of the first three steps


def run(name, grads=GRADS, theta0=THETA0, **hyper):
    """θ after each step of optimizer `name` fed the given gradients."""
    opt = optimizers.make_optimizer(name, len(theta0), **hyper)
    theta = np.array(theta0, dtype=float)
    out = []
    for g in grads:
        opt.step(theta, np.array(g, dtype=float))
        out.append(theta.tolist())
    return out


def per_coordinate(update, grads=GRADS, theta0=THETA0):
    """Apply a scalar update rule `update(theta_i, g_i, state_i, t) -> theta_i` to each coordinate."""
    theta, states, out = list(theta0), [{} for _ in theta0], []
    for t, g in enumerate(grads, start=1):
        theta = [update(theta[i], g[i], states[i], t) for i in range(len(theta))]
        out.append(theta)
    return out


def assert_close(actual, expected, rel=1e-13):
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert a.shape == e.shape
    assert np.all(np.abs(a - e) <= rel * np.maximum(np.abs(e), 1e-300)), f"\n{a}\n!=\n{e}"


# ----------------------------------------------------------------------------- SGD
def test_sgd_plain_by_hand():
    lr = 0.1
    expected = [[1.0 - 0.05, -2.0 + 0.1],              # θ − lr·g
                [0.95 - 0.03, -1.9 - 0.02],
                [0.92 + 0.04, -1.92 - 0.08]]
    assert_close(run("sgd", lr=lr), expected)


def test_sgd_momentum_buffer_starts_as_first_gradient():
    lr, mu = 0.1, 0.9
    out = run("sgd", lr=lr, momentum=mu)
    # step 1 uses b = g₁ (not (1 − τ)g₁ and not 0)
    assert_close(out[0], [1.0 - lr * 0.5, -2.0 - lr * -1.0])
    # step 2: b = μ·g₁ + g₂
    b2 = [mu * 0.5 + 0.3, mu * -1.0 + 0.2]
    assert_close(out[1], [out[0][0] - lr * b2[0], out[0][1] - lr * b2[1]])


@pytest.mark.parametrize("hyper", [
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.5, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.8, weight_decay=0.2),
    dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    dict(lr=0.1, weight_decay=0.5),
])
def test_sgd_three_steps_by_hand(hyper):
    h = dict(dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False), **hyper)
    lr, mu, tau, wd, nesterov = h["lr"], h["momentum"], h["dampening"], h["weight_decay"], h["nesterov"]

    def update(th, g, s, t):
        g = g + wd * th                                   # coupled weight decay
        if mu != 0:
            s["b"] = g if t == 1 else mu * s["b"] + (1 - tau) * g
            g = g + mu * s["b"] if nesterov else s["b"]
        return th - lr * g

    assert_close(run("sgd", **hyper), per_coordinate(update))


# ----------------------------------------------------------------------------- Adagrad
@pytest.mark.parametrize("hyper", [
    dict(),
    dict(lr=0.1, lr_decay=0.5),
    dict(lr=0.1, initial_accumulator_value=0.3, weight_decay=0.2, eps=1e-3),
])
def test_adagrad_three_steps_by_hand(hyper):
    h = dict(dict(lr=0.01, lr_decay=0.0, initial_accumulator_value=0.0, weight_decay=0.0, eps=1e-10), **hyper)
    lr, decay, wd, eps = h["lr"], h["lr_decay"], h["weight_decay"], h["eps"]
    s0 = h["initial_accumulator_value"]

    def update(th, g, s, t):
        g = g + wd * th
        s["sum"] = s.get("sum", s0) + g * g
        clr = lr / (1 + (t - 1) * decay)                 # lr decays with the step count
        return th - clr * g / (math.sqrt(s["sum"]) + eps)

    assert_close(run("adagrad", **hyper), per_coordinate(update))


def test_adagrad_first_step_is_lr_times_sign():
    # s = g², so the first step is lr·g/(|g| + eps) ≈ lr·sign(g)
    out = run("adagrad", lr=0.5)[0]
    assert_close(out, [1.0 - 0.5 * 0.5 / (0.5 + 1e-10), -2.0 + 0.5 * 1.0 / (1.0 + 1e-10)])


# ----------------------------------------------------------------------------- RMSprop
@pytest.mark.parametrize("hyper", [
    dict(),
    dict(lr=0.05, alpha=0.9, centered=True),
    dict(lr=0.05, alpha=0.8, momentum=0.9),
    dict(lr=0.05, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1, eps=1e-4),
])
def test_rmsprop_three_steps_by_hand(hyper):
    h = dict(dict(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, weight_decay=0.0), **hyper)
    lr, alpha, eps = h["lr"], h["alpha"], h["eps"]
    mu, centered, wd = h["momentum"], h["centered"], h["weight_decay"]

    def update(th, g, s, t):
        g = g + wd * th
        s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g * g
        if centered:
            s["gbar"] = alpha * s.get("gbar", 0.0) + (1 - alpha) * g
            r = math.sqrt(s["v"] - s["gbar"] ** 2) + eps
        else:
            r = math.sqrt(s["v"]) + eps
        if mu > 0:
            s["b"] = mu * s.get("b", 0.0) + g / r          # this buffer starts at 0
            return th - lr * s["b"]
        return th - lr * g / r

    assert_close(run("rmsprop", **hyper), per_coordinate(update))


# ----------------------------------------------------------------------------- Adadelta
@pytest.mark.parametrize("hyper", [dict(), dict(lr=0.5, rho=0.8, eps=1e-3, weight_decay=0.1)])
def test_adadelta_three_steps_by_hand(hyper):
    h = dict(dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0), **hyper)
    lr, rho, eps, wd = h["lr"], h["rho"], h["eps"], h["weight_decay"]

    def update(th, g, s, t):
        g = g + wd * th
        s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
        delta = math.sqrt(s.get("u", 0.0) + eps) / math.sqrt(s["v"] + eps) * g
        s["u"] = rho * s.get("u", 0.0) + (1 - rho) * delta * delta
        return th - lr * delta

    assert_close(run("adadelta", **hyper), per_coordinate(update))


# ----------------------------------------------------------------------------- Adam / AdamW
def adam_rule(lr, b1, b2, eps, wd, amsgrad, decoupled):
    def update(th, g, s, t):
        if decoupled:
            th = th * (1 - lr * wd)
        else:
            g = g + wd * th
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m_hat = s["m"] / (1 - b1 ** t)
        v = s["vmax"] = max(s.get("vmax", 0.0), s["v"]) if amsgrad else s["v"]
        v_hat = v / (1 - b2 ** t)
        return th - lr * m_hat / (math.sqrt(v_hat) + eps)
    return update


@pytest.mark.parametrize("name,hyper", [
    ("adam", dict()),
    ("adam", dict(lr=0.1, betas=[0.8, 0.9], eps=1e-3)),
    ("adam", dict(lr=0.1, weight_decay=0.3)),
    ("adam", dict(lr=0.1, betas=(0.5, 0.6), amsgrad=True)),
    ("adamw", dict()),
    ("adamw", dict(lr=0.1, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.6))),
])
def test_adam_three_steps_by_hand(name, hyper):
    b1, b2 = hyper.get("betas", (0.9, 0.999))
    rule = adam_rule(hyper.get("lr", 1e-3), b1, b2, hyper.get("eps", 1e-8),
                     hyper.get("weight_decay", 0.01 if name == "adamw" else 0.0), hyper.get("amsgrad", False),
                     decoupled=name == "adamw")
    assert_close(run(name, **hyper), per_coordinate(rule), rel=1e-12)


def test_adam_first_step_moves_lr_against_each_sign():
    # m̂ = g and v̂ = g² after one step, so θ moves by lr·g/(|g| + eps)
    out = run("adam", lr=0.1)[0]
    assert_close(out, [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 1.0 / (1.0 + 1e-8)], rel=1e-12)


def test_amsgrad_uses_the_largest_second_moment():
    grads = [[4.0, 4.0], [0.1, 0.1], [0.1, 0.1]]  # v falls after the big first gradient
    plain = run("adam", grads, lr=0.1, betas=(0.5, 0.6))
    ams = run("adam", grads, lr=0.1, betas=(0.5, 0.6), amsgrad=True)
    assert plain[0] == ams[0]
    assert abs(ams[2][0] - ams[1][0]) < abs(plain[2][0] - plain[1][0])  # larger denominator, smaller step


def test_adamw_decay_is_decoupled_from_the_moments():
    # with a zero gradient Adam's coupled decay goes through m/√v (a full lr-sized step), AdamW's shrinks θ
    zero = [[0.0, 0.0]]
    assert_close(run("adamw", zero, lr=0.1, weight_decay=0.5)[0], [1.0 * (1 - 0.05), -2.0 * (1 - 0.05)])
    assert_close(run("adam", zero, lr=0.1, weight_decay=0.5)[0],
                 [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 1.0 / (1.0 + 1e-8)], rel=1e-12)


# ----------------------------------------------------------------------------- Newton
A2 = [[3.0, 1.0], [1.0, 2.0]]
B2 = [1.0, -1.0]


class Quadratic:
    """f(θ) = ½θᵀAθ − bᵀθ, minimum at A⁻¹b."""

    def __init__(self, a, b):
        self.a, self.b = np.array(a, dtype=float), np.array(b, dtype=float)
        self.calls = 0

    def loss_and_grad(self, theta):
        self.calls += 1
        return 0.5 * theta @ self.a @ theta - self.b @ theta, self.a @ theta - self.b

    def hessian(self, theta):
        return self.a.copy()


def solve2(a, r):
    """(a)⁻¹ r for a 2×2 matrix, by the adjugate."""
    det = a[0][0] * a[1][1] - a[0][1] * a[1][0]
    return [(a[1][1] * r[0] - a[0][1] * r[1]) / det, (a[0][0] * r[1] - a[1][0] * r[0]) / det]


def test_undamped_newton_lands_on_the_minimum_in_one_step():
    q = Quadratic(A2, B2)
    opt = optimizers.make_optimizer("newton", 2, damping=0.0)
    theta = np.array([5.0, -7.0])
    opt.step(theta, q.loss_and_grad(theta)[1], q)
    assert_close(theta, solve2(A2, B2), rel=1e-14)  # A⁻¹b = (0.6, −0.8)
    assert_close(theta, [0.6, -0.8], rel=1e-14)


def test_damped_newton_matches_the_formula():
    lr, delta = 0.5, 0.3
    q = Quadratic(A2, B2)
    theta = np.array([5.0, -7.0])
    g = [3.0 * 5.0 + 1.0 * -7.0 - 1.0, 1.0 * 5.0 + 2.0 * -7.0 + 1.0]  # Aθ − b = (7, −8)
    p = solve2([[3.0 + delta, 1.0], [1.0, 2.0 + delta]], g)
    optimizers.make_optimizer("newton", 2, lr=lr, damping=delta).step(theta, q.loss_and_grad(theta)[1], q)
    assert_close(theta, [5.0 - lr * p[0], -7.0 - lr * p[1]], rel=1e-14)


def test_undamped_newton_jumps_onto_a_saddle():
    saddle = Quadratic([[2.0, 0.0], [0.0, -2.0]], [0.0, 0.0])  # f = x² − y²
    theta = np.array([0.5, 0.5])
    optimizers.make_optimizer("newton", 2, damping=0.0).step(theta, saddle.loss_and_grad(theta)[1], saddle)
    assert theta.tolist() == [0.0, 0.0]  # the critical point, not a minimum


def test_newton_falls_back_to_least_squares_when_singular():
    flat = Quadratic([[1.0, 0.0], [0.0, 0.0]], [1.0, 0.0])  # no curvature along y
    theta = np.array([3.0, 2.0])
    optimizers.make_optimizer("newton", 2, damping=0.0).step(theta, flat.loss_and_grad(theta)[1], flat)
    assert_close(theta, [1.0, 2.0])  # min-norm solution: solves along x, no move along y


def test_second_order_methods_need_an_objective():
    for name in ("newton", "lbfgs"):
        opt = optimizers.make_optimizer(name, 2)
        assert opt.needs_objective
        with pytest.raises(ValueError, match="objective"):
            opt.step(np.zeros(2), np.ones(2))
    assert not optimizers.make_optimizer("adam", 2).needs_objective


# ----------------------------------------------------------------------------- L-BFGS
class Rosenbrock:
    def __init__(self):
        self.calls = 0

    def loss_and_grad(self, theta):
        self.calls += 1
        x, y = theta
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        return loss, np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def test_lbfgs_converges_on_rosenbrock_with_strong_wolfe():
    f = Rosenbrock()
    opt = optimizers.make_optimizer("lbfgs", 2, line_search_fn="strong_wolfe")
    theta = np.array([-1.5, 2.0])
    for _ in range(10):
        opt.step(theta, None, f)
    assert np.abs(theta - 1.0).max() < 1e-5
    assert f.loss_and_grad(theta)[0] < 1e-9  # tolerance_change stops it there
    assert opt.state["func_evals"] == f.calls - 1


def test_lbfgs_first_two_iterations_by_hand():
    # max_iter=1: each step() is a single iteration, the second one uses one curvature pair
    q = Quadratic(A2, B2)
    lr = 0.5
    opt = optimizers.make_optimizer("lbfgs", 2, lr=lr, max_iter=1)
    theta = np.array([1.0, 1.0])
    opt.step(theta, None, q)
    g0 = [3.0 + 1.0 - 1.0, 1.0 + 2.0 + 1.0]                 # Aθ − b = (3, 4)
    t0 = min(1.0, 1.0 / (abs(g0[0]) + abs(g0[1]))) * lr     # first step: at most a unit L1 move
    th1 = [1.0 - t0 * g0[0], 1.0 - t0 * g0[1]]
    assert_close(theta, th1)

    opt.step(theta, None, q)
    g1 = [3.0 * th1[0] + th1[1] - 1.0, th1[0] + 2.0 * th1[1] + 1.0]
    s = [-t0 * g0[0], -t0 * g0[1]]                          # s = t·d with d = −g₀
    y = [g1[0] - g0[0], g1[1] - g0[1]]
    ys = y[0] * s[0] + y[1] * s[1]
    rho, h_diag = 1.0 / ys, ys / (y[0] ** 2 + y[1] ** 2)
    q_ = [-g1[0], -g1[1]]                                   # two-loop recursion with one pair
    alpha = rho * (s[0] * q_[0] + s[1] * q_[1])
    q_ = [q_[0] - alpha * y[0], q_[1] - alpha * y[1]]
    r = [h_diag * q_[0], h_diag * q_[1]]
    beta = rho * (y[0] * r[0] + y[1] * r[1])
    d = [r[0] + (alpha - beta) * s[0], r[1] + (alpha - beta) * s[1]]
    assert_close(theta, [th1[0] + lr * d[0], th1[1] + lr * d[1]], rel=1e-12)


def test_lbfgs_solves_a_quadratic_and_stops_at_the_gradient_tolerance():
    rng = np.random.default_rng(3)
    m = rng.standard_normal((6, 6))
    q = Quadratic(m @ m.T + 6 * np.eye(6), rng.standard_normal(6))
    opt = optimizers.make_optimizer("lbfgs", 6, line_search_fn="strong_wolfe", tolerance_change=1e-14)
    theta = np.zeros(6)
    opt.step(theta, None, q)
    np.testing.assert_allclose(theta, np.linalg.solve(q.a, q.b), rtol=1e-7, atol=1e-8)
    # at the exact minimum ‖g‖∞ ≤ tolerance_grad: one evaluation and no move
    theta = np.linalg.solve(q.a, q.b)
    calls, before = q.calls, theta.copy()
    optimizers.make_optimizer("lbfgs", 6).step(theta, None, q)
    assert q.calls == calls + 1 and np.array_equal(theta, before)


def test_cubic_interpolation_by_hand():
    # f(x) = x³ − 3x through (0, 0, −3) and (2, 2, 9): the cubic is f itself, its minimum x = 1
    assert lbfgs._cubic_interpolate(0.0, 0.0, -3.0, 2.0, 2.0, 9.0) == 1.0
    assert lbfgs._cubic_interpolate(2.0, 2.0, 9.0, 0.0, 0.0, -3.0) == 1.0
    assert lbfgs._cubic_interpolate(0.0, 0.0, -3.0, 2.0, 2.0, 9.0, bounds=(1.5, 3.0)) == 1.5
    # f(x) = x³ + x through (−1, −2, 4) and (1, 2, 4): d1 = 2, d2² = 4 − 16 < 0: no minimum, mid-bounds
    assert lbfgs._cubic_interpolate(-1.0, -2.0, 4.0, 1.0, 2.0, 4.0, bounds=(0.0, 4.0)) == 2.0
    # f(x) = −x² through (0, 0, 0) and (1, −1, −2): the denominator is 0, the ±inf clips to a bound
    assert lbfgs._cubic_interpolate(0.0, 0.0, 0.0, 1.0, -1.0, -2.0, bounds=(1.01, 10.0)) in (1.01, 10.0)


@pytest.mark.parametrize("a", [[[2.0, 0.0], [0.0, -2.0]], [[0.0, 0.0], [0.0, 0.0]]], ids=["saddle", "linear"])
def test_lbfgs_line_search_survives_concave_and_flat_slices(a):
    f = Quadratic(a, [0.0, 0.1])  # unbounded below: the search must keep going downhill
    opt = optimizers.make_optimizer("lbfgs", 2, line_search_fn="strong_wolfe", max_iter=5)
    theta = np.array([0.5, 0.3])
    losses = [f.loss_and_grad(theta)[0]]
    for _ in range(3):
        opt.step(theta, None, f)
        losses.append(f.loss_and_grad(theta)[0])
    assert np.all(np.diff(losses) < 0)


class Poly1D:
    """f(x) = −x + a·x² + b·x³ + c·x⁴ of one parameter: steep, so a long first trial step overshoots."""

    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c

    def loss_and_grad(self, theta):
        x, a, b, c = theta[0], self.a, self.b, self.c
        loss = -x + a * x * x + b * x ** 3 + c * x ** 4
        return loss, np.array([-1 + 2 * a * x + 3 * b * x * x + 4 * c * x ** 3])


OVERSHOOT = [(20.67, 0.0, 35.29, 8.8), (0.0835, 300.96, 3.907, 6.91), (6.396, 247.9, 3.466, 21.63)]


@pytest.mark.parametrize("a,b,c,lr", OVERSHOOT)
def test_strong_wolfe_zoom_lands_on_a_wolfe_point_after_overshooting(a, b, c, lr):
    f = Poly1D(a, b, c)
    opt = optimizers.make_optimizer("lbfgs", 1, lr=lr, max_iter=1, max_eval=25, line_search_fn="strong_wolfe")
    theta = np.zeros(1)
    f0, g0 = f.loss_and_grad(theta)
    opt.step(theta, None, f)
    t = theta[0]  # the first direction is −g₀ = +1
    f1, g1 = f.loss_and_grad(theta)
    assert 0 < t < 0.1 * lr
    assert f1 <= f0 + 1e-4 * t * g0[0]          # sufficient decrease
    assert abs(g1[0]) <= 0.9 * abs(g0[0])       # strong curvature condition


# ----------------------------------------------------------------------------- general behaviour
ALL_CASES = [
    ("sgd", dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("rmsprop", dict(momentum=0.9, centered=True, weight_decay=0.1)),
    ("adadelta", dict(weight_decay=0.1)),
    ("adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("adamw", dict(lr=0.01)),
    ("newton", dict(lr=0.5)),
    ("lbfgs", dict(max_iter=3)),
    ("lbfgs", dict(max_iter=4, line_search_fn="strong_wolfe", history_size=2)),
]


# options that allocate every state array an optimizer declares
EVERY_ARRAY = {"sgd": dict(momentum=0.9), "rmsprop": dict(momentum=0.9, centered=True), "adam": dict(amsgrad=True),
               "adamw": dict(amsgrad=True)}


@pytest.mark.parametrize("name", list(optimizers.OPTIMIZERS))
def test_state_names_declare_the_state_arrays_in_order(name):
    """core/fast finds an optimizer's arrays by the names its class declares, in that order: before
    the first step, with every option on, `state` holds exactly those arrays, in that order."""
    opt = optimizers.make_optimizer(name, 3, **EVERY_ARRAY.get(name, {}))
    assert [k for k, v in opt.state.items() if isinstance(v, np.ndarray)] == list(opt.state_names)


def drive(opt, theta, steps, seed):
    """Steps on a fixed random quadratic; the gradient sequence depends on θ."""
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((theta.size, theta.size))
    q = Quadratic(m @ m.T + np.eye(theta.size), rng.standard_normal(theta.size))
    for _ in range(steps):
        opt.step(theta, q.loss_and_grad(theta)[1], q)


@pytest.mark.parametrize("name,hyper", ALL_CASES)
def test_state_dict_round_trip_continues_bit_identically(name, hyper):
    n = 5
    a = optimizers.make_optimizer(name, n, **hyper)
    theta = np.linspace(-1.0, 1.0, n)
    drive(a, theta, 4, seed=1)
    saved, theta_saved = a.state_dict(), theta.copy()
    through_json = json.loads(json.dumps(saved, default=lambda x: x.tolist()))
    drive(a, theta, 3, seed=2)  # the original goes on (and must not change `saved`) ...
    for d in (saved, through_json):  # ... and so does a fresh optimizer loaded from the save
        b = optimizers.make_optimizer(name, n)  # default hyperparameters: loading restores them
        b.load_state_dict(d)
        assert b.hyper == a.hyper
        theta_b = theta_saved.copy()
        drive(b, theta_b, 3, seed=2)
        assert theta_b.tolist() == theta.tolist()


@pytest.mark.parametrize("name,hyper", ALL_CASES)
def test_step_updates_theta_in_place_and_leaves_grad_alone(name, hyper):
    opt = optimizers.make_optimizer(name, 3, **hyper)
    theta = np.array([0.3, -0.2, 0.5])
    view = theta[1:]
    q = Quadratic(np.diag([1.0, 2.0, 3.0]), [1.0, 1.0, 1.0])
    grad = q.loss_and_grad(theta)[1]
    grad_before = grad.copy()
    opt.step(theta, grad, q)
    assert not np.array_equal(view, [-0.2, 0.5])  # the view saw the update
    assert np.array_equal(grad, grad_before)


def test_schedule_controls_lr_each_step():
    opt = optimizers.make_optimizer("sgd", 1, lr=0.1)
    theta = np.array([0.0])
    opt.lr = 0.5
    opt.step(theta, np.array([1.0]))
    assert theta[0] == -0.5
    assert opt.hyper["lr"] == 0.1


def test_defaults_and_registry():
    assert list(optimizers.OPTIMIZERS) == [
        "sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "newton", "lbfgs", "nadam", "radam", "adamax",
        "rprop"]
    assert optimizers.make_optimizer("sgd", 2).lr == 1e-3
    assert optimizers.make_optimizer("adamw", 2).hyper["weight_decay"] == 0.01
    assert optimizers.make_optimizer("lbfgs", 2, max_iter=8).hyper["max_eval"] == 10
    assert optimizers.make_optimizer("newton", 2).hyper == {"lr": 1.0, "damping": 1e-3}
    for name, cls in optimizers.OPTIMIZERS.items():
        assert cls.name == name
        assert optimizers.make_optimizer(name, 3).state_dict()["name"] == name


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("name,hyper,message", [
    ("sgd", dict(lr=-1), "Invalid learning rate: -1"),
    ("sgd", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("sgd", dict(weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    ("sgd", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("sgd", dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
    ("adagrad", dict(lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
    ("adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("adagrad", dict(eps=-1e-10), "Invalid epsilon value: -1e-10"),
    ("rmsprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("adam", dict(betas=[0.9, -0.1]), "Invalid beta parameter at index 1: -0.1"),
    ("adam", dict(betas=0.9), "betas must be two numbers"),
    ("adamw", dict(betas=(0.9, 0.99, 0.9)), "betas must be two numbers"),
    ("adam", dict(lr="fast"), "lr must be a number"),
    ("adam", dict(lr=float("nan")), "Invalid learning rate: nan"),
    ("adam", dict(amsgrad=1), "amsgrad must be true or false"),
    ("newton", dict(damping=-1.0), "Invalid damping value: -1.0"),
    ("lbfgs", dict(max_iter=0), "Invalid max_iter value: 0"),
    ("lbfgs", dict(history_size=2.5), "history_size must be an integer"),
    ("lbfgs", dict(line_search_fn="backtracking"), "Invalid line_search_fn value: 'backtracking'"),
    ("lbfgs", dict(tolerance_grad=-1.0), "Invalid tolerance_grad value: -1.0"),
])
def test_invalid_hyperparameters_are_rejected_like_torch(name, hyper, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        optimizers.make_optimizer(name, 2, **hyper)


def test_unknown_names_list_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown hyperparameter 'betas'; allowed: lr, momentum, dampening"):
        optimizers.make_optimizer("sgd", 2, betas=(0.9, 0.99))
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamx'; allowed: sgd, adagrad, .*lbfgs"):
        optimizers.make_optimizer("adamx", 2)
    with pytest.raises(ValueError, match="n_params must be a positive integer"):
        optimizers.make_optimizer("adam", 0)


def test_load_state_dict_rejects_a_mismatch():
    adam = optimizers.make_optimizer("adam", 3)
    with pytest.raises(ValueError, match="'sgd', not 'adam'"):
        adam.load_state_dict(optimizers.make_optimizer("sgd", 3).state_dict())
    with pytest.raises(ValueError, match="shape"):
        adam.load_state_dict(optimizers.make_optimizer("adam", 4).state_dict())
    sd = optimizers.make_optimizer("adam", 3).state_dict()
    del sd["state"]["exp_avg"]
    theta = np.ones(3)
    adam.step(theta, np.ones(3))
    before = adam.state_dict()
    with pytest.raises(ValueError, match="keys"):
        adam.load_state_dict(sd)
    assert adam.state["step"] == 1 and np.array_equal(adam.state["exp_avg"], before["state"]["exp_avg"])


# ----------------------------------------------------------------------------- clipping
def test_clip_grad_norm_below_the_threshold_changes_nothing():
    g = np.array([3.0, 4.0])
    assert optim.clip_grad_norm_(g, 5.1) == 5.0
    assert g.tolist() == [3.0, 4.0]


def test_clip_grad_norm_above_the_threshold_scales_by_max_over_norm_plus_1e6():
    g = np.array([3.0, 4.0])
    assert optim.clip_grad_norm_(g, 1.0) == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    assert g.tolist() == [3.0 * coef, 4.0 * coef]
    assert math.hypot(*g) < 1.0  # just under max_norm, because of the 1e-6


def test_clip_grad_norm_at_the_threshold_still_scales_slightly():
    g = np.array([3.0, 4.0])
    optim.clip_grad_norm_(g, 5.0)  # coef = 5/(5 + 1e-6) < 1, as in torch
    assert g.tolist() == [3.0 * (5.0 / (5.0 + 1e-6)), 4.0 * (5.0 / (5.0 + 1e-6))]


def test_clipping_off_and_by_value():
    g = np.array([30.0, -40.0, 0.5])
    assert optim.clip_grad_norm_(g, 0.0) == pytest.approx(math.sqrt(900 + 1600 + 0.25), rel=1e-15)
    assert g.tolist() == [30.0, -40.0, 0.5]
    optim.clip_grad_value_(g, 0.0)
    assert g.tolist() == [30.0, -40.0, 0.5]
    optim.clip_grad_value_(g, 1.0)
    assert g.tolist() == [1.0, -1.0, 0.5]


# ----------------------------------------------------------------------------- numerical Hessian
def test_numerical_hessian_of_rosenbrock():
    f = Rosenbrock()
    theta = np.array([-1.2, 1.0])
    before = theta.copy()
    h = optim.numerical_hessian(lambda t: f.loss_and_grad(t)[1], theta)
    x, y = -1.2, 1.0
    exact = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]]
    np.testing.assert_allclose(h, exact, rtol=1e-7)
    assert np.array_equal(h, h.T)
    assert np.array_equal(theta, before)


def test_numerical_hessian_copes_with_a_reused_gradient_buffer():
    buf = np.empty(2)

    def grad(t):  # returns the same array every time, as an engine might
        buf[:] = [6 * t[0] + t[1], t[0] + 4 * t[1]]
        return buf

    h = optim.numerical_hessian(grad, np.array([0.3, 0.7]))
    np.testing.assert_allclose(h, [[6, 1], [1, 4]], rtol=1e-9)


# ----------------------------------------------------------------------------- torch cross-checks
TORCH_CASES = [
    ("sgd", {}),
    ("sgd", dict(lr=0.05, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.01)),
    ("adagrad", {}),
    ("adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("rmsprop", {}),
    ("rmsprop", dict(momentum=0.9, centered=True)),
    ("rmsprop", dict(alpha=0.9, weight_decay=0.1, eps=1e-6, momentum=0.5)),
    ("adadelta", {}),
    ("adadelta", dict(lr=0.5, rho=0.95, weight_decay=0.1)),
    ("adam", {}),
    ("adam", dict(lr=0.01, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1)),
    ("adamw", {}),
    ("adamw", dict(lr=0.01, amsgrad=True, weight_decay=0.5)),
]


def torch_optimizer(name, params, hyper):
    torch = pytest.importorskip("torch")
    cls = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
           "adadelta": torch.optim.Adadelta, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "lbfgs": torch.optim.LBFGS}[name]
    return cls(params, **hyper)


def assert_rel(ours, theirs, rel=1e-12):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert np.abs(ours - theirs).max() <= rel * np.abs(theirs).max(), (ours, theirs)


@pytest.mark.parametrize("problem", ["random_gradients", "quadratic"])
@pytest.mark.parametrize("name,hyper", TORCH_CASES)
def test_matches_torch_for_50_steps(name, hyper, problem):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    n = 7
    grads = rng.standard_normal((50, n)) * rng.uniform(0.01, 10, n)
    m = rng.standard_normal((n, n))
    q = Quadratic(m @ m.T / n + 0.1 * np.eye(n), rng.standard_normal(n))
    theta = rng.standard_normal(n)
    p = torch.nn.Parameter(torch.tensor(theta.copy(), dtype=torch.float64))
    ref = torch_optimizer(name, [p], hyper)
    opt = optimizers.make_optimizer(name, n, **hyper)
    for k in range(50):
        g = grads[k] if problem == "random_gradients" else q.loss_and_grad(theta)[1]
        opt.step(theta, g)
        p.grad = torch.tensor(g.copy())
        ref.step()
        assert_rel(theta, p.detach().numpy())


def test_defaults_match_torch():
    torch = pytest.importorskip("torch")
    p = [torch.nn.Parameter(torch.zeros(1))]
    for name in optimizers.OPTIMIZERS:
        if name == "newton" or name in ("nadam", "radam", "adamax", "rprop"):  # test_optimizer_modules.py
            continue
        theirs = torch_optimizer(name, p, {}).defaults  # torch resolves max_eval here: compare resolved
        for k, v in optimizers.make_optimizer(name, 1).hyper.items():
            assert theirs[k] == v, (name, k)


def torch_lbfgs_run(fn, x0, steps, hyper):
    """θ after each torch LBFGS.step(closure); the closure feeds our numpy loss and gradient."""
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    ref = torch.optim.LBFGS([p], **hyper)

    def closure():
        loss, g = fn(p.detach().numpy().copy())
        p.grad = torch.tensor(g)
        return torch.tensor(loss, dtype=torch.float64)

    out, evals = [], []
    for _ in range(steps):
        ref.step(closure)
        out.append(p.detach().numpy().copy())
        evals.append(ref.state[p]["func_evals"])
    return out, evals


def our_lbfgs_run(objective, x0, steps, hyper):
    opt = optimizers.make_optimizer("lbfgs", len(x0), **hyper)
    theta = np.array(x0, dtype=float)
    out, evals = [], []
    for _ in range(steps):
        opt.step(theta, None, objective)
        out.append(theta.copy())
        evals.append(opt.state["func_evals"])
    return out, evals


LBFGS_HYPER = [dict(), dict(max_iter=5, history_size=3), dict(lr=0.5, max_iter=3),
               dict(lr=0.1, max_iter=4, history_size=2, max_eval=3)]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("hyper", LBFGS_HYPER)
def test_lbfgs_matches_torch_on_a_quadratic(hyper, line_search_fn):
    pytest.importorskip("torch")
    q = Quadratic([[3.0, 0.5, 0.1], [0.5, 1.0, -0.2], [0.1, -0.2, 0.3]], [1.0, -2.0, 0.5])
    hyper = dict(hyper, line_search_fn=line_search_fn)
    ours, our_evals = our_lbfgs_run(q, [1.0, 1.0, 1.0], 10, hyper)
    theirs, their_evals = torch_lbfgs_run(q.loss_and_grad, [1.0, 1.0, 1.0], 10, hyper)
    assert our_evals == their_evals
    for a, b in zip(ours, theirs):
        assert_rel(a, b)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("hyper", [dict(lr=0.5, max_iter=3), dict(lr=0.2, max_iter=4)])
def test_lbfgs_matches_torch_on_rosenbrock_step_by_step(hyper, line_search_fn):
    pytest.importorskip("torch")
    hyper = dict(hyper, line_search_fn=line_search_fn)
    ours, our_evals = our_lbfgs_run(Rosenbrock(), [-1.5, 2.0], 10, hyper)
    theirs, their_evals = torch_lbfgs_run(Rosenbrock().loss_and_grad, [-1.5, 2.0], 10, hyper)
    assert our_evals == their_evals
    for a, b in zip(ours, theirs):
        assert_rel(a, b)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_torch_on_rosenbrock_with_defaults(line_search_fn):
    # With the default lr 1 and 20 iterations per step the Rosenbrock path is chaotic: torch fuses
    # θ + t·d into one FMA rounding where numpy rounds twice, and that last-bit difference grows
    # with every further iteration. So: the first step closely, the same evaluations, the same end.
    pytest.importorskip("torch")
    hyper = dict(line_search_fn=line_search_fn)
    ours, our_evals = our_lbfgs_run(Rosenbrock(), [-1.5, 2.0], 25, hyper)
    theirs, their_evals = torch_lbfgs_run(Rosenbrock().loss_and_grad, [-1.5, 2.0], 25, hyper)
    assert our_evals[0] == their_evals[0]
    assert_rel(ours[0], theirs[0], rel=1e-9)
    np.testing.assert_allclose(ours[-1], [1.0, 1.0], atol=1e-4)
    np.testing.assert_allclose(theirs[-1], [1.0, 1.0], atol=1e-4)


@pytest.mark.parametrize("a", [[[2.0, 0.0], [0.0, -2.0]], [[0.0, 0.0], [0.0, 0.0]]], ids=["saddle", "linear"])
def test_lbfgs_matches_torch_on_concave_and_flat_slices(a):
    # Along a concave slice the interpolation divides 0 by ~0: torch's tensors give ±inf and clip the
    # trial step to a bound (Python floats would raise). Which bound depends on the rounding noise
    # in that ~0, so the two runs agree while it is well defined (the first iterations) and then
    # both march downhill to −∞ with the same number of evaluations.
    # With torch 2.13.0 (CPU) the ~0 is rounding noise from the first iteration on the saddle: torch's
    # fused θ + t·d gives f = −0.5700000000000001 where numpy gives −0.5699999999999998, and the
    # interpolation then picks the other bound (measured: ours (−1.94, 2.71), torch's (−18.4, 20.5)).
    # Both are downhill trials of the same line search; the evaluation counts still agree.
    pytest.importorskip("torch")
    f = Quadratic(a, [0.0, 0.1])
    hyper = dict(line_search_fn="strong_wolfe", max_iter=3)
    ours, our_evals = our_lbfgs_run(f, [0.5, 0.3], 1, hyper)
    theirs, their_evals = torch_lbfgs_run(f.loss_and_grad, [0.5, 0.3], 1, hyper)
    assert our_evals == their_evals
    start = f.loss_and_grad(np.array([0.5, 0.3]))[0]
    for end in (ours[0], theirs[0]):
        assert np.isfinite(end).all() and f.loss_and_grad(np.asarray(end, dtype=float))[0] < start
    if not np.any(np.linalg.eigvalsh(np.asarray(a)) < 0):  # flat: no noisy ~0, the same point
        assert_rel(ours[0], theirs[0])
    hyper["max_iter"] = 20
    our_evals = our_lbfgs_run(f, [0.5, 0.3], 3, hyper)[1]
    assert our_evals == torch_lbfgs_run(f.loss_and_grad, [0.5, 0.3], 3, hyper)[1]


@pytest.mark.parametrize("a,b,c,lr", OVERSHOOT)
def test_lbfgs_matches_torch_after_overshooting(a, b, c, lr):
    # exercises the zoom phase's safeguard that moves trials away from the bracket's ends
    pytest.importorskip("torch")
    hyper = dict(lr=lr, max_iter=4, line_search_fn="strong_wolfe")
    ours, our_evals = our_lbfgs_run(Poly1D(a, b, c), [0.0], 5, hyper)
    theirs, their_evals = torch_lbfgs_run(Poly1D(a, b, c).loss_and_grad, [0.0], 5, hyper)
    assert our_evals == their_evals
    for x, y in zip(ours, theirs):
        assert_rel(x, y)


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 5.0, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(int(max_norm * 10))
    for scale in (0.01, 1.0, 30.0):
        g = rng.standard_normal(121) * scale
        p = torch.nn.Parameter(torch.zeros(121, dtype=torch.float64))
        p.grad = torch.tensor(g.copy())
        theirs = float(torch.nn.utils.clip_grad_norm_([p], max_norm))
        ours = optim.clip_grad_norm_(g, max_norm)
        assert ours == pytest.approx(theirs, rel=1e-15)
        assert_rel(g, p.grad.numpy(), rel=1e-15)


# (second-order methods step on an objective; their copies are covered by the session twin tests)
@pytest.mark.parametrize("name", sorted(k for k, c in optimizers.OPTIMIZERS.items() if not c.needs_objective))
def test_copy_state_from_is_the_state_dict_round_trip_in_place(name):
    """Session.sync_from copies a twin's optimizer every frame: the in-place copy must leave exactly
    what state_dict -> load_state_dict leaves, in the arrays step() already holds."""
    rng = np.random.default_rng(0)
    n = 6
    cls = optimizers.OPTIMIZERS[name]
    a, b, ref = cls(n), cls(n), cls(n)
    theta = rng.normal(size=n)
    for _ in range(3):
        a.step(theta, rng.normal(size=n))
    b.step(theta.copy(), rng.normal(size=n))  # allocated alike, other values
    held = {k: v for k, v in b.state.items() if isinstance(v, np.ndarray)}
    a.lr = 0.123
    b.copy_state_from(a)
    ref.load_state_dict(a.state_dict())
    assert b.lr == ref.lr == 0.123
    assert b.state.keys() == ref.state.keys()
    for k, v in ref.state.items():
        assert np.array_equal(b.state[k], v)
    assert all(b.state[k] is arr for k, arr in held.items())  # in place: step() keeps its references
    t1, t2, g = theta.copy(), theta.copy(), rng.normal(size=n)
    b.step(t1, g)
    ref.step(t2, g)
    assert np.array_equal(t1, t2)  # and it steps on identically
