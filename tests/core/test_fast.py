"""The fast paths against the numpy reference: the same bits, step for step.

The numpy loop (`Session(config, fast=False)`) is the reference. Every test here trains the same
config both ways and asserts exact equality of everything a session exposes afterwards.
"""
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradplay.core import config, fast
from gradplay.core.session import Session

numba = pytest.importorskip("numba")


@pytest.fixture(scope="module", autouse=True)
def kernels():
    """Load (or compile, the first time on a machine: ~20 s) the compiled kernels once."""
    assert fast.ensure(block=True), fast.status()


def _eq(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def assert_same(ref: Session, got: Session) -> None:
    """Everything observable about two sessions is identical."""
    assert got.step == ref.step and got.halted == ref.halted
    assert _eq(got.last_loss, ref.last_loss) and _eq(got.grad_norms, ref.grad_norms)
    assert _eq(got.theta, ref.theta) and _eq(got.grad, ref.grad)
    h_ref, h_got = ref.history.as_arrays(), got.history.as_arrays()
    for k in h_ref:
        assert _eq(h_got[k], h_ref[k]), f"history column {k}"
    o_ref, o_got = ref.optimizer.state_dict(), got.optimizer.state_dict()
    assert o_got["lr"] == o_ref["lr"]
    for k, v in o_ref["state"].items():
        assert _eq(o_got["state"][k], v), f"optimizer state {k}"
    assert got.schedule.state_dict() == ref.schedule.state_dict()
    for k, g in ref.rngs.items():
        assert got.rngs[k].bit_generator.state == g.bit_generator.state, f"rng {k}"
    if ref.kind == "dataset":
        assert got._pos == ref._pos and _eq(got._perm, ref._perm)
        for k, v in ref.model.buffers().items():
            assert _eq(got.model.buffers()[k], v), k
        assert (got.last_batch is None) == (ref.last_batch is None)
        if ref.last_batch is not None:
            assert _eq(got.last_batch, ref.last_batch)


def both(raw: dict, steps: int, calls: int = 1) -> tuple[Session, Session]:
    cfg = config.resolve(raw)
    ref, got = Session(cfg, fast=False), Session(cfg, fast=True)
    for _ in range(calls):
        ref.run(steps)
        got.run(steps)
    assert ref.engine == "numpy"
    return ref, got


SPIRAL = {"task": {"name": "spiral", "n_samples": 200}}
OPTIMIZERS = [
    {"name": "sgd", "lr": 0.1},
    {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    {"name": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"name": "adagrad", "lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
    {"name": "rmsprop", "lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
    {"name": "rmsprop"},
    {"name": "adadelta", "weight_decay": 0.01},
    {"name": "adam", "lr": 0.01, "amsgrad": True, "weight_decay": 0.01},
    {"name": "adamw", "lr": 0.01},
]


@pytest.mark.parametrize("activation", ["linear", "relu", "leaky_relu", "elu", "tanh", "sigmoid", "gelu", "silu"])
def test_every_activation(activation):
    ref, got = both({**SPIRAL, "network": {"hidden": [6, 5], "activation": activation},
                     "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 7}}, 300)
    assert got.engine == "compiled"
    assert_same(ref, got)


@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: "-".join(f"{v}" for v in o.values()))
def test_every_first_order_optimizer(opt):
    ref, got = both({**SPIRAL, "network": {"hidden": [4, 3]}, "optimizer": opt, "training": {"batch_size": 16}}, 300)
    assert_same(ref, got)


@pytest.mark.parametrize("loss, task", [("mse", "sine"), ("mae", "plane"), ("huber", "sine"), ("bce", "moons"),
                                        ("cross_entropy", "blobs3"), ("hinge", "xor"), ("mse", "xor")])
def test_every_loss(loss, task):
    ref, got = both({"task": {"name": task, "n_samples": 150}, "network": {"hidden": [5, 3]}, "loss": {"name": loss},
                     "optimizer": {"name": "adam", "lr": 0.02}, "training": {"batch_size": 9}}, 300)
    assert_same(ref, got)


@pytest.mark.parametrize("raw", [
    {"network": {"hidden": [8, 8], "batch_norm": True, "activation": "relu"}, "training": {"batch_size": 9}},
    {"network": {"hidden": [8, 1, 3], "batch_norm": True, "activation": "gelu"},
     "training": {"batch_size": "full", "l1": 0.01, "l2": 0.02}},
    {"network": {"hidden": [8, 1, 3]}, "training": {"batch_size": 1, "clip_value": 0.05}},
    {"network": {"hidden": [8, 8]}, "training": {"batch_size": 33, "clip_norm": 0.5, "l2": 0.001},
     "schedule": {"name": "cosine", "t_max": 50}},
    {"network": {"hidden": []}, "training": {"batch_size": 2, "l1": 0.001},
     "schedule": {"name": "step", "step_size": 7, "gamma": 0.5}},
    {"network": {"hidden": [3]}, "training": {"batch_size": 13}, "schedule": {"name": "exponential", "gamma": 0.99}},
    {"network": {"hidden": [5, 4], "inputs": ["x1", "x1^2", "x2^2", "x1*x2", "sin(x2)", "cos(x1)"]},
     "training": {"batch_size": 17}},
    {"network": {"hidden": [6, 5, 4], "activation": ["relu", "linear", "silu"], "batch_norm": True},
     "training": {"batch_size": 12}},
    {"network": {"hidden": [5, 5], "activation": ["gelu", "sigmoid"]}, "training": {"batch_size": 9}},
    {"network": {"hidden": [5, 4]}, "training": {"batch_size": 11},
     "timeline": [{"step": 37, "params.W2[1,3]": 0.9, "params.b1[0]": -0.2}, {"step": 90, "params.W1[1,4]": 2.0}]},
    {"network": {"hidden": [8, 6], "dropout": [0.2, 0.5]}, "training": {"batch_size": 16}},
    {"network": {"hidden": [6, 5, 4], "activation": ["relu", "gelu", "tanh"], "batch_norm": True,
                 "dropout": [0.5, 0.0, 0.3]}, "training": {"batch_size": 12, "l2": 0.001, "clip_norm": 1.0}},
    {"network": {"hidden": [5], "activation": "silu", "dropout": 0.9}, "training": {"batch_size": "full"}},
], ids=["batchnorm", "bn-full-l1l2", "batch1-clipvalue", "clipnorm-cosine", "linear-model-step", "exponential",
        "input-features", "per-layer-activations-bn", "per-layer-activations",
        "weights-set-by-hand", "dropout", "dropout-bn-per-layer", "dropout-full-batch"])
def test_batch_norm_penalties_clipping_schedules(raw):
    ref, got = both({**SPIRAL, "optimizer": {"name": "adam", "lr": 0.05}, **raw}, 150, calls=2)
    assert_same(ref, got)


def test_halting_keeps_the_same_last_finite_state():
    raw = {**SPIRAL, "network": {"hidden": [16, 16], "init": "normal", "init_std": 50.0, "activation": "linear"},
           "loss": {"name": "mse"}, "optimizer": {"name": "sgd", "lr": 10.0}, "training": {"batch_size": 10}}
    ref, got = both(raw, 3000)
    assert ref.halted and "infinite" in ref.halted
    assert_same(ref, got)
    assert got.run(5) == 0


def test_history_thinning_inside_one_long_call():
    # more steps than the history's 8192 rows in one call: the kernel stops, Python thins, it goes on
    ref, got = both({**SPIRAL, "network": {"hidden": [2]}, "optimizer": {"name": "sgd", "lr": 0.1},
                     "training": {"batch_size": 50}}, 9000)
    assert_same(ref, got)
    assert len(got.history) < 9000


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "bn-leftover-of-one"])
def test_epochs_drawn_ahead_leave_the_generator_as_one_epoch_at_a_time(batch_norm):
    # One kernel call runs many epochs on permutations drawn ahead; the generator is then rewound to
    # the draws the steps used. 160 training rows in batches of 53 leave 1 over: with batch norm (which
    # cannot normalise one sample) that leftover starts the next epoch, without it it is a batch of 1.
    # Calls of odd lengths stop mid-epoch, at an epoch's end and after the last drawn epoch.
    cfg = config.resolve({**SPIRAL, "network": {"hidden": [4], "batch_norm": batch_norm},
                          "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 53}})
    ref, got = Session(cfg, fast=False), Session(cfg, fast=True)
    for n in (1, 3, 2, 4, 100, 7, 2500, 3):
        ref.run(n)
        got.run(n)
        assert_same(ref, got)
    assert got.engine == "compiled"


def test_one_kernel_call_runs_many_epochs(monkeypatch):
    # A call per epoch (config (a)'s are 32 steps) returned to Python ~1,000 times a second, and the
    # window's trainer thread waited for the GIL at each return while the window drew.
    from gradplay.core.fast import mlp

    s = Session(config.resolve({**SPIRAL, "training": {"batch_size": 10}}), fast=True)
    s.run(1)
    kernel, calls = mlp.train, []

    def counted(n, *args):
        calls.append(n)
        return kernel(n, *args)

    monkeypatch.setattr(mlp, "train", counted)
    assert s.run(1000) == 1000 and s.engine == "compiled"
    assert calls == [1000]  # 62.5 epochs of 16 batches, in one call


def test_switching_paths_mid_run_changes_nothing():
    # a GUI trains on numpy until the kernels are ready, then switches: the run must not notice
    cfg = config.resolve({**SPIRAL, "network": {"hidden": [8, 8], "batch_norm": True},
                          "optimizer": {"name": "adam", "lr": 0.01}, "training": {"batch_size": 10}})
    ref, mixed = Session(cfg, fast=False), Session(cfg, fast=False)
    ref.run(200)
    for fast_path, n in ((False, 37), (True, 63), (False, 50), (True, 50)):
        mixed.fast = fast_path
        mixed.run(n)
    assert_same(ref, mixed)


def test_snapshot_restore_on_the_fast_path():
    cfg = config.resolve({**SPIRAL, "network": {"hidden": [6], "batch_norm": True},
                          "optimizer": {"name": "rmsprop", "momentum": 0.3}, "training": {"batch_size": 12}})
    a = Session(cfg)
    a.run(40)
    snap = a.snapshot()
    a.run(70)
    b = Session(cfg)
    b.run(5)
    b.restore(snap)
    b.run(70)
    ref = Session(cfg, fast=False)
    ref.run(110)
    assert_same(ref, a)
    assert_same(ref, b)


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "himmelblau", "monkey_saddle", "six_hump_camel",
                                  "styblinski_tang", "rastrigin", "ackley", "saddle"])
@pytest.mark.parametrize("opt", OPTIMIZERS, ids=lambda o: "-".join(f"{v}" for v in o.values()))
def test_landscapes_on_the_scalar_path(name, opt):
    opt = {**opt, "lr": min(opt.get("lr", 0.01), 0.01)}
    ref, got = both({"task": {"kind": "function", "name": name}, "optimizer": opt,
                     "training": {"clip_norm": 5.0}}, 300)
    assert got.engine == "scalar"
    assert_same(ref, got)


@pytest.mark.parametrize("training", [{"clip_value": 1.0}, {}])
def test_landscape_halts_and_schedules(training):
    ref, got = both({"task": {"kind": "function", "name": "rosenbrock"}, "optimizer": {"name": "sgd", "lr": 0.1},
                     "training": training, "schedule": {"name": "exponential", "gamma": 0.999}}, 500)
    assert_same(ref, got)


def test_second_order_methods_keep_the_numpy_path():
    for opt in ({"name": "newton"}, {"name": "lbfgs"}):
        s = Session(config.resolve({"task": {"kind": "function", "name": "booth"}, "optimizer": opt}))
        s.run(3)
        assert s.engine == "numpy"


def test_gradplay_jit_0_selects_the_reference(monkeypatch):
    monkeypatch.setenv("GRADPLAY_JIT", "0")
    s = Session(config.resolve({**SPIRAL, "network": {"hidden": [3]}}))
    assert s.fast is False
    s.run(5)
    assert s.engine == "numpy"


def test_a_cold_cache_trains_on_numpy_while_a_child_compiles(monkeypatch, tmp_path):
    """Headless, without a warm-cache marker nothing waits for the compiler: the run goes on on the
    numpy path while a child process fills Numba's cache, then switches to the kernels, bit for bit."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no marker here: the cache counts as cold
    monkeypatch.setattr(fast, "_state", {"status": "cold", "error": None, "fp": None, "seconds": None,
                                         "thread": None, "child": None, "polled": 0.0, "gui": False})
    assert not fast.cache_warm()
    cfg = config.resolve({**SPIRAL, "network": {"hidden": [4, 3]}})
    got, ref = Session(cfg), Session(cfg, fast=False)
    got.run(5)
    assert got.engine == "numpy" and fast._state["status"] == "cold"
    child = fast._state["child"]
    assert child and child.wait(timeout=600) == 0  # compiles, or loads what this machine cached
    assert fast.cache_warm(), "the child leaves a marker for the next run"
    monkeypatch.setattr(fast, "POLL_SECONDS", 0.0)
    got.run(5)
    assert got.engine == "compiled" and fast.ready()
    ref.run(10)
    assert_same(ref, got)


def test_a_warm_cache_loads_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fast._mark_warm(__import__("gradplay.core.fast.mlp", fromlist=["mlp"]))
    assert fast.cache_warm()
    monkeypatch.setattr(fast, "_state", {"status": "cold", "error": None, "fp": None, "seconds": None,
                                         "thread": None, "child": None, "polled": 0.0, "gui": False})
    s = Session(config.resolve({**SPIRAL, "network": {"hidden": [3]}}))
    s.run(3)
    assert s.engine == "compiled" and fast._state["child"] is None


# ----------------------------------------------------------------------------- the primitives
def test_sums_match_numpy():
    from gradplay.core.fast import prims

    rng = np.random.default_rng(0)
    for n in [*range(1, 300), 1000, 8191, 8193, 20000, 100_003]:
        a = rng.normal(size=n) * 10.0 ** rng.uniform(-5, 5, size=n)
        assert prims.total(a, 0, n) == a.sum(), n
        starts = np.array([0, n // 3, n // 2]) if n > 3 else np.array([0])
        ref = np.add.reduceat(a * a, starts)
        bounds = [*starts, n]
        got = [prims.segment_sq_sum(a, s, e - s) for s, e in zip(bounds[:-1], bounds[1:])]
        assert np.array_equal(ref, got), n
    for m, w in [(1, 1), (3, 1), (300, 1), (9000, 1), (1, 5), (7, 3), (128, 64), (20000, 2)]:
        z = rng.normal(size=(m, w))
        out = np.zeros(w)
        prims.reduce_rows(z.ravel(), 0, m, w, out, 0)
        assert np.array_equal(out, np.add.reduce(z, axis=0)), (m, w)


@pytest.mark.parametrize("m, k, n", [(10, 2, 8), (1, 2, 8), (10, 8, 1), (1, 8, 1), (10, 1, 8), (1, 1, 1),
                                     (128, 64, 64), (5, 1, 1), (1, 1, 5)])
def test_matmul_matches_numpy_in_every_layout_the_network_uses(m, k, n):
    from gradplay.core.fast import prims

    fp = fast._state["fp"]
    rng = np.random.default_rng(1)
    a, w, dz = rng.normal(size=(m, k)), rng.normal(size=(k, n)), rng.normal(size=(m, n))
    one = 1
    out = np.zeros(m * n)
    prims.matmul(fp, a.ravel(), 0, k, one, w.ravel(), 0, n, one, out, 0, n, one, m, k, n)
    assert np.array_equal(out.reshape(m, n), a @ w)
    out = np.zeros(k * n)                                        # dW = a.T @ dz
    prims.matmul(fp, a.ravel(), 0, one, k, dz.ravel(), 0, n, one, out, 0, n, one, k, m, n)
    assert np.array_equal(out.reshape(k, n), a.T @ dz)
    out = np.zeros(m * k)                                        # da = dz @ W.T
    prims.matmul(fp, dz.ravel(), 0, n, one, w.ravel(), 0, one, n, out, 0, k, one, m, n, k)
    assert np.array_equal(out.reshape(m, k), dz @ w.T)


def test_ufunc_loops_and_pow_match_numpy_and_python():
    from gradplay.core.fast import prims

    fp = fast._state["fp"]
    rng = np.random.default_rng(2)
    x = rng.normal(size=5001) * 6
    sc = np.zeros(8, dtype=np.int64)
    for idx, f, arg in ((prims.F_TANH, np.tanh, x), (prims.F_EXP, np.exp, x), (prims.F_LOG1P, np.log1p, np.abs(x)),
                        (prims.F_EXPM1, np.expm1, x), (prims.F_LOG, np.log, np.abs(x) + 1e-3)):
        y = np.empty_like(arg)
        prims.ufunc1(fp[idx], arg, 0, y, 0, arg.size, sc)
        assert np.array_equal(y, f(arg)), f.__name__
    three = np.array([3.0])
    y = np.empty_like(x)
    prims.power_scalar(fp, x, 0, three, 0, y, 0, x.size, sc)
    assert np.array_equal(y, x ** 3)
    for t in range(1, 3000):
        assert prims.cpow(fp, 0.999, t) == 0.999 ** t and prims.cpow(fp, 1 - 0.999 ** t, 0.5) == (1 - 0.999 ** t) ** 0.5


def test_without_numba_datasets_fall_back_to_numpy_and_landscapes_stay_fast():
    import subprocess
    import sys

    code = ("import sys; sys.modules['numba'] = None\n"
            "from gradplay.core import config, fast\nfrom gradplay.core.session import Session\n"
            "s = Session(config.resolve({})); s.run(20)\n"
            "f = Session(config.resolve({'task': {'kind': 'function', 'name': 'rosenbrock'}})); f.run(20)\n"
            "print(s.engine, f.engine, fast.status()['status'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["numpy", "scalar", "failed"]


def test_a_gradient_that_overflows_halts_the_same_way():
    # far out, x**5 on Python floats raises OverflowError inside the landscape's gradient
    ref, got = both({"task": {"kind": "function", "name": "six_hump_camel", "start": [3.0, 0.5]},
                     "optimizer": {"name": "sgd", "lr": 1.0}}, 50)
    assert ref.halted and ref.step > 0
    assert_same(ref, got)


def test_an_exception_in_the_gradient_leaves_the_same_state():
    cfg = config.resolve({"task": {"kind": "function", "name": "quadratic"}, "optimizer": {"name": "adam"}})
    ref, got = Session(cfg, fast=False), Session(cfg, fast=True)
    for s in (ref, got):
        calls = [0]
        grad_fn = s.landscape.grad_fn

        def flaky(x, y, calls=calls, grad_fn=grad_fn):
            calls[0] += 1
            if calls[0] == 7:
                raise ZeroDivisionError("a user-typed gradient")
            return grad_fn(x, y)
        object.__setattr__(s.landscape, "grad_fn", flaky)  # the registry's frozen Landscape: put back below
        try:
            with pytest.raises(ZeroDivisionError):
                s.run(20)
        finally:
            object.__setattr__(s.landscape, "grad_fn", grad_fn)
    assert ref.step == 6
    assert_same(ref, got)


@pytest.mark.parametrize("opt", [{"name": "adam", "eps": 0.0}, {"name": "adagrad", "eps": 0.0},
                                 {"name": "rmsprop", "eps": 0.0, "centered": True}, {"name": "adadelta", "eps": 0.0}])
def test_zero_division_gives_numpys_nan_not_an_exception(opt):
    # at the minimum the gradient is exactly 0 and so is every denominator: 0/0 is nan, then a halt
    ref, got = both({"task": {"kind": "function", "name": "quadratic", "start": [0.0, 0.0]},
                     "optimizer": opt}, 5)
    assert_same(ref, got)
    ref, got = both({**SPIRAL, "network": {"hidden": [3]}, "optimizer": opt}, 20)
    assert_same(ref, got)


def test_a_run_that_ends_before_its_compiling_child_leaves_no_resource_warning(tmp_path):
    """The child outlives a short run on purpose; Python used to print "ResourceWarning: subprocess N
    is still running" at the run's exit (a Popen finaliser)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    p = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-m", "gradplay", "run", "xor_relu",
                        "--steps", "20", "--out", str(tmp_path / "o"), "-q"],
                       capture_output=True, text=True, env=env, timeout=300)
    for proc in Path("/proc").glob("[0-9]*"):  # stop the child: its compile is not this test's subject
        try:
            if str(tmp_path).encode() in (proc / "environ").read_bytes():
                os.kill(int(proc.name), signal.SIGKILL)
        except OSError:
            pass
    assert p.returncode == 0 and p.stderr == "", p.stderr
