"""Every preset's story is true: each preset trains headless and shows, in numbers, what its text claims.

`STORIES` maps every preset name to a check; a preset without one fails
`test_every_preset_has_a_story_check`. Runs are cached, so a pair's checks share their training.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import pytest

from gradplay import presets
from gradplay.core import config, diagnostics, headless, losses
from gradplay.core.session import Session

STORIES: dict[str, Callable[[], None]] = {}


def story(*names: str):
    def register(fn):
        for n in names:
            STORIES[n] = functools.partial(fn, n)
        return fn
    return register


@functools.cache
def trained(name: str, steps: int) -> tuple[Session, dict]:
    """A preset's session after `steps` steps and its headless arrays (shared; do not modify)."""
    s = Session(presets.load_preset(name))
    return s, headless.record(s, steps)


@functools.cache
def fresh(name: str) -> Session:
    return Session(presets.load_preset(name))


def first(mask: np.ndarray) -> int | None:
    hit = np.flatnonzero(mask)
    return int(hit[0]) if hit.size else None


def first_layer_ratio(grad_norm: np.ndarray, steps: slice) -> float:
    """Geometric mean over `steps` of ‖∇ layer 1‖ / ‖∇ last layer‖."""
    with np.errstate(divide="ignore"):
        g = np.exp(np.mean(np.log(grad_norm[steps]), axis=0))
    return float(g[0] / g[-1])


def weights(s: Session) -> np.ndarray:
    return np.abs(s.theta[s.model.weight_mask])


# ------------------------------------------------------------------------- vanishing gradients
@story("vanish_sigmoid_small_init")
def _vanish(name):
    s, a = trained(name, 400)
    assert first_layer_ratio(a["grad_norm"], slice(0, 50)) < 1e-3        # measured 3.6e-4
    assert diagnostics.gradient_flow(s).level == "warning"
    assert s.evaluate(record=False)["train_acc"] <= 0.6                  # stuck at chance (0.50)


@story("vanish_fix_he_relu")
def _vanish_fix(name):
    s, a = trained(name, 400)
    assert first_layer_ratio(a["grad_norm"], slice(0, 50)) > 0.1         # measured 0.95
    assert diagnostics.gradient_flow(s).level == "ok"
    assert s.evaluate(record=False)["train_acc"] >= 0.95                 # 1.00


# ------------------------------------------------------------------------- exploding gradients
@story("explode_large_init")
def _explode(name):
    s, a = trained(name, 500)
    assert np.linalg.norm(a["grad_norm"][0]) > 100                       # 3.4e2 at the first step
    assert s.halted and ("infinite" in s.halted or "NaN" in s.halted)    # halts at step 5
    assert s.step < 20 and np.isfinite(s.theta).all()                    # last finite weights kept
    advice = diagnostics.halt_advice(s)
    assert any(ch == {"training": {"clip_norm": 1.0}} for _, ch in advice.suggestions)


@story("explode_fix_clipping")
def _explode_fix(name):
    s, a = trained(name, 500)
    twin = fresh("explode_large_init")
    assert np.array_equal(fresh(name).theta, twin.theta)                 # the same start
    assert np.linalg.norm(a["grad_norm"][0]) > 100                       # raw norm, before clipping
    assert not s.halted and np.isfinite(s.theta).all()
    assert s.current_loss() < 0.1 and s.current_loss() < a["loss"][0] / 100   # 57 -> 0.024


# ------------------------------------------------------------------------- saturation
@story("saturate_tanh_large_init")
def _saturate(name):
    s, _ = trained(name, 1000)
    assert diagnostics.saturation(fresh(name)).value > 0.4               # 0.48 at the start
    assert diagnostics.saturation(s).value > 0.8                         # 0.94 after training
    assert s.current_loss() > 0.6                                        # 0.79: unsolved


@story("saturate_fix_batchnorm")
def _saturate_fix(name):
    s, _ = trained(name, 1000)
    assert diagnostics.saturation(fresh(name)).value < 0.05              # 0.00
    assert diagnostics.saturation(s).value < 0.25                        # 0.13
    twin, _ = trained("saturate_tanh_large_init", 1000)
    assert s.current_loss() < 0.5 and s.current_loss() < twin.current_loss() / 2   # 0.29 vs 0.79


# ------------------------------------------------------------------------- batch size and noise
def step_noise(name: str) -> float:
    """Std of successive differences of the recorded batch loss, after the first 50 steps."""
    return float(np.diff(trained(name, 300)[1]["loss"][50:]).std())


@story("noise_batch_full", "noise_batch_mini", "noise_batch_single")
def _noise(name):
    full, mini, single = (step_noise(f"noise_batch_{k}") for k in ("full", "mini", "single"))
    assert full < mini / 20 and mini < single / 2                        # 3.5e-4, 0.15, 0.74
    assert np.all(np.diff(trained("noise_batch_full", 300)[1]["loss"]) < 0)   # smooth: falls every step
    lf, lm = (trained(f"noise_batch_{k}", 300)[0].current_loss() for k in ("full", "mini"))
    assert abs(lf - lm) < 0.1 * lf                                       # same progress per step
    if name == "noise_batch_mini":
        assert fresh(name).batch_size == 16 and fresh("noise_batch_full").batch_size == 160


# ------------------------------------------------------------------------- landscapes
def sign_changes(v: np.ndarray) -> int:
    return int(np.sum(np.diff(np.sign(v)) != 0))


@story("ravine_gd_plain", "ravine_momentum")
def _ravine(name):
    _, plain = trained("ravine_gd_plain", 300)
    _, mom = trained("ravine_momentum", 300)
    assert sign_changes(plain["trajectory"][:21, 1]) == 20               # zig-zags at every step
    assert sign_changes(mom["trajectory"][:21, 1]) <= 12                 # 12
    assert 2 * first(mom["loss"] < 1e-6) < first(plain["loss"] < 1e-6)  # 27 vs 86 steps


@story("saddle_sgd", "saddle_adam")
def _saddle(name):
    def escape(preset):
        t = trained(preset, 300)[1]["trajectory"]
        out = first(np.abs(t[:, 1]) > 1.0)
        speed = np.linalg.norm(np.diff(t[: out + 1], axis=0), axis=1)
        return out, speed, float(np.linalg.norm(t, axis=1).min())
    sgd_out, sgd_speed, sgd_near = escape("saddle_sgd")
    adam_out, adam_speed, adam_near = escape("saddle_adam")
    assert sgd_speed.min() < 0.2 * sgd_speed[0] and sgd_near < 0.2      # slows by the saddle (0.17)
    assert sgd_out <= 60                                                 # ... then escapes (49)
    assert adam_out <= sgd_out / 2 and adam_near > 1.0                   # 20 steps, never near it
    assert adam_speed.min() > 2 * sgd_speed.min()


def rosenbrock_distance(name: str, steps: int) -> np.ndarray:
    return np.linalg.norm(trained(name, steps)[1]["trajectory"] - [1.0, 1.0], axis=1)


@story("rosenbrock_gd", "rosenbrock_newton", "rosenbrock_adam")
def _rosenbrock(name):
    newton = rosenbrock_distance("rosenbrock_newton", 50)
    assert first(newton < 1e-6) <= 10                                    # 7 steps
    gd = trained("rosenbrock_gd", 20_000)[0]
    assert np.linalg.norm(gd.theta - 1.0) > 1e-6 and not gd.halted      # still 4e-4 away
    assert rosenbrock_distance("rosenbrock_gd", 20_000)[1500] > 0.5
    assert rosenbrock_distance("rosenbrock_adam", 1500)[-1] < 0.05       # adam moves along the floor


@story("lr_limit_below")
def _lr_below(name):
    st = diagnostics.stability(fresh(name))
    assert st.level == "ok" and st.value == pytest.approx(0.9)
    s, a = trained(name, 200)
    assert sign_changes(a["trajectory"][:21, 0]) == 20                   # flips side every step
    assert np.all(np.diff(a["loss"][:150]) < 0) and a["loss"][150] < 1e-12


@story("lr_limit_above")
def _lr_above(name):
    st = diagnostics.stability(fresh(name))
    assert st.level == "warning" and st.value == pytest.approx(1.1) and st.details["limit"] == 1.0
    s, a = trained(name, 3000)
    assert s.halted and ("infinite" in s.halted or "NaN" in s.halted) and s.step < 3000   # step 1939
    assert np.all(np.diff(a["loss"][:-1]) > 0)                          # grew at every step
    advice = diagnostics.halt_advice(s)
    assert "above the stability limit 2/λmax = 1;" in advice.message
    assert ("Set lr to 0.9", {"optimizer": {"lr": 0.9}}) in advice.suggestions


# ------------------------------------------------------------------------- losses
def outputs(name: str):
    s, _ = trained(name, 600)
    out = s.model.predict(s.data.x_train)
    _, dout = losses.loss_and_grad(s.loss_name, out, s.data.y_train)
    return s, out[:, 0], dout[:, 0]


@story("loss_bce", "loss_hinge", "loss_mse")
def _losses(name):
    s, out, dout = outputs(name)
    assert s.evaluate(record=False)["train_acc"] >= 0.95
    if name == "loss_mse":
        assert abs(np.abs(out).mean() - 1.0) < 0.15 and np.abs(out).max() < 2    # 0.96, 1.44
    if name == "loss_bce":
        assert np.abs(out).mean() > 3 and np.all(dout != 0)              # 5.2; no point is done
    if name == "loss_hinge":
        assert np.mean(dout == 0) > 0.8 and s.current_loss() < 0.05      # 98% of points at margin


# ------------------------------------------------------------------------- penalties
@story("reg_l1", "reg_l2")
def _penalties(name):
    l1, _ = trained("reg_l1", 1000)
    l2, _ = trained("reg_l2", 1000)
    assert np.mean(weights(l1) < 1e-2) > 0.8                             # 0.94
    assert np.mean(weights(l2) < 1e-2) < 0.15                            # 0.00
    assert weights(l1).max() > 2 * weights(l2).max()                     # a few large ones: 2.8 vs 0.66
    assert trained(name, 1000)[0].evaluate(record=False)["test_acc"] >= 0.95


# ------------------------------------------------------------------------- schedules
@functools.cache
def schedule_run(name: str) -> tuple[Session, float]:
    """1000 steps; mean excess of the full training loss over the least-squares optimum in the last 200."""
    s = Session(presets.load_preset(name))
    x = np.c_[s.data.x_train, np.ones(len(s.data.x_train))]
    best = np.mean((x @ np.linalg.lstsq(x, s.data.y_train, rcond=None)[0] - s.data.y_train) ** 2)
    s.run(800)
    excess = []
    for _ in range(8):
        s.run(25)
        excess.append(s.current_loss() - best)
    return s, float(np.mean(excess))


@story("schedule_constant", "schedule_step", "schedule_cosine")
def _schedules(name):
    s, excess = schedule_run(name)
    k, lr = s.history.get_steps(), s.history.get("lr")
    expected = {"schedule_constant": np.full(k.size, 0.1),
                "schedule_step": 0.1 * 0.3 ** (k // 200),
                "schedule_cosine": 0.05 * (1 + np.cos(np.pi * k / 1000))}[name]
    assert lr == pytest.approx(expected, rel=1e-12, abs=1e-15)
    const = schedule_run("schedule_constant")[1]
    if name != "schedule_constant":
        assert excess < const / 10                                       # 2.5e-5, 1.0e-4 vs 1.7e-2


# ------------------------------------------------------------------------- the first presets
@story("blobs3_softmax")
def _blobs3(name):
    ev = trained(name, 300)[0].evaluate(record=False)
    assert ev["train_acc"] >= 0.9 and ev["test_acc"] >= 0.85             # 0.96, 0.90


@story("circles_relu", "xor_relu")
def _hidden_layer_suffices(name):
    assert trained(name, 500)[0].evaluate(record=False)["test_acc"] >= 0.95


@story("sine_regression")
def _sine(name):
    s, a = trained(name, 1000)
    assert s.current_loss() < 0.05 and s.current_loss() < fresh(name).current_loss() / 5   # 0.33 -> 0.012


@story("spiral_tanh")
def _spiral(name):
    assert trained(name, 1500)[0].evaluate(record=False)["train_acc"] >= 0.95               # 1.00


# ------------------------------------------------------------------------- input features, classes, stops
@story("features_circles_plain", "features_circles_squares")
def _features(name):
    acc = trained(name, 600)[0].evaluate(record=False)["test_acc"]
    if name == "features_circles_plain":
        assert acc < 0.75                                   # a line on x1, x2: ~0.65
    else:
        assert acc >= 0.97                                  # a line on x1², x2² is a circle: 1.00


@story("spiral_four_arms")
def _four_arms(name):
    s, _ = trained(name, 3000)
    assert s.model.n_out == 4 and s.evaluate(record=False)["train_acc"] >= 0.9                 # 0.98


@story("stop_early_overfit")
def _early_stop(name):
    s, arrays = trained(name, 20_000)
    assert s.stopped and "early stopping" in s.stopped and s.step < 5000                      # 520
    assert len(arrays["loss"]) == s.step                      # rewound to the best check: the run ends there
    best = s.evaluate(record=False)["test_loss"]
    # trained on past the best, the test loss climbs while the training loss still falls
    on = Session(config.with_changes(presets.load_preset(name), stop={"patience": 0}))
    on.run(s.step + 1000)
    later = on.evaluate(record=False)
    assert later["test_loss"] > best and later["train_loss"] < s.evaluate(record=False)["train_loss"]


# ------------------------------------------------------------------------- the tests
def test_every_preset_has_a_story_check():
    names = set(presets.preset_names())
    assert sorted(names - set(STORIES)) == [], "presets without a story check"
    assert sorted(set(STORIES) - names) == [], "story checks for presets that do not exist"


def test_there_are_at_least_twelve_new_guided_presets():
    originals = {"blobs3_softmax", "circles_relu", "ravine_momentum", "rosenbrock_adam", "saddle_sgd",
                 "sine_regression", "spiral_tanh", "xor_relu"}
    new = set(presets.preset_names()) - originals
    assert len(new) >= 12
    for name in new:
        meta = presets.load_preset(name)["meta"]
        assert meta["title"] and len(meta["description"]) > 100 and meta["try"], name


@pytest.mark.parametrize("name", presets.preset_names())
def test_every_preset_trains_50_steps(name):
    s = Session(presets.load_preset(name))
    done = s.run(50)
    if name != "explode_large_init":                       # the one that is meant to blow up
        assert done == 50 and not s.halted and math.isfinite(s.last_loss)


@pytest.mark.parametrize("name", sorted(STORIES))
def test_story(name):
    STORIES[name]()
