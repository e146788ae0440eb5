"""Learning-rate schedules: closed forms, torch's schedulers, saving, validation."""
import json
import math
import warnings

import pytest

from gradplay.core import schedules


def rates(name, base_lr, n, **hyper):
    """The rate used at steps 0 … n−1: lr after k calls of step()."""
    s = schedules.make_schedule(name, base_lr, **hyper)
    out = []
    for _ in range(n):
        out.append(s.lr)
        s.step()
    return out


def test_constant():
    assert rates("constant", 0.3, 300) == [0.3] * 300


@pytest.mark.parametrize("step_size,gamma", [(1, 0.5), (7, 0.1), (30, 0.9)])
def test_step_closed_form(step_size, gamma):
    for k, lr in enumerate(rates("step", 0.2, 300, step_size=step_size, gamma=gamma)):
        assert lr == pytest.approx(0.2 * gamma ** (k // step_size), rel=1e-12, abs=0)


def test_step_default_gamma_is_torchs():
    assert rates("step", 1.0, 21, step_size=10)[::10] == [1.0, 0.1, 0.1 * 0.1]


@pytest.mark.parametrize("gamma", [0.99, 0.9, 1.01])
def test_exponential_closed_form(gamma):
    for k, lr in enumerate(rates("exponential", 0.1, 300, gamma=gamma)):
        assert lr == pytest.approx(0.1 * gamma ** k, rel=1e-12, abs=0)


@pytest.mark.parametrize("t_max,eta_min", [(100, 0.0), (50, 0.001), (300, 0.01), (1, 0.0)])
def test_cosine_closed_form_up_to_t_max(t_max, eta_min):
    base = 0.1
    lrs = rates("cosine", base, t_max + 1, t_max=t_max, eta_min=eta_min)
    for k, lr in enumerate(lrs):
        expected = eta_min + (base - eta_min) * (1 + math.cos(math.pi * k / t_max)) / 2
        assert lr == pytest.approx(expected, rel=1e-12, abs=0)
    assert lrs[-1] == eta_min


def test_cosine_past_t_max_climbs_back_like_torch():
    # no restart: past t_max the rate follows the same cosine back up to base_lr at 2·t_max
    lrs = rates("cosine", 0.1, 301, t_max=50, eta_min=0.001)
    for k in range(50, 301):
        expected = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * k / 50)) / 2
        assert lrs[k] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert lrs[100] == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize("name,hyper", [
    ("constant", {}),
    ("step", dict(step_size=7, gamma=0.5)),
    ("exponential", dict(gamma=0.97)),
    ("cosine", dict(t_max=50, eta_min=0.001)),
])
def test_state_dict_round_trip_continues_bit_identically(name, hyper):
    a = schedules.make_schedule(name, 0.1, **hyper)
    for _ in range(37):
        a.step()
    saved = json.loads(json.dumps(a.state_dict()))
    b = schedules.make_schedule(name, 0.5, **hyper)
    b.load_state_dict(saved)
    assert (b.lr, b.last_step, b.base_lr) == (a.lr, a.last_step, a.base_lr)
    assert [a.step() for _ in range(200)] == [b.step() for _ in range(200)]


def test_step_returns_the_new_rate_and_counts():
    s = schedules.make_schedule("exponential", 1.0, gamma=0.5)
    assert (s.lr, s.last_step) == (1.0, 0)
    assert s.step() == 0.5 == s.lr
    assert s.last_step == 1


@pytest.mark.parametrize("name,base_lr,hyper,message", [
    ("linear", 0.1, {}, r"unknown schedule 'linear'; allowed: constant, step, exponential, cosine"),
    ("constant", 0.1, dict(gamma=0.5), r"unknown hyperparameter 'gamma'; it takes: nothing"),
    ("step", 0.1, dict(gamma=0.5), r"missing hyperparameter 'step_size'; it takes: step_size, gamma"),
    ("step", 0.1, dict(step_size=10, t_max=5), r"unknown hyperparameter 't_max'"),
    ("exponential", 0.1, {}, r"missing hyperparameter 'gamma'"),
    ("cosine", 0.1, dict(eta_min=0.0), r"missing hyperparameter 't_max'; it takes: t_max, eta_min"),
    ("step", 0.1, dict(step_size=0), "step_size must be a positive integer, got 0"),
    ("step", 0.1, dict(step_size=2.5), "step_size must be a positive integer"),
    ("step", 0.1, dict(step_size=True), "step_size must be a positive integer"),
    ("step", 0.1, dict(step_size=3, gamma=0.0), "gamma must be > 0"),
    ("exponential", 0.1, dict(gamma=-0.5), "gamma must be > 0"),
    ("exponential", 0.1, dict(gamma="slow"), "gamma must be a finite number"),
    ("cosine", 0.1, dict(t_max=0), "t_max must be a positive integer"),
    ("cosine", 0.1, dict(t_max=10, eta_min=-1e-3), "eta_min must be >= 0"),
    ("constant", -0.1, {}, "base_lr must be >= 0"),
    ("constant", float("nan"), {}, "base_lr must be a finite number"),
])
def test_validation(name, base_lr, hyper, message):
    with pytest.raises(ValueError, match=message):
        schedules.make_schedule(name, base_lr, **hyper)


def test_load_state_dict_rejects_another_schedule():
    with pytest.raises(ValueError, match="'step', not 'cosine'"):
        schedules.make_schedule("cosine", 0.1, t_max=5).load_state_dict(
            schedules.make_schedule("step", 0.1, step_size=5).state_dict())


# ----------------------------------------------------------------------------- torch cross-check
def torch_rates(cls, base_lr, n, **hyper):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = cls(opt, **hyper) if cls else None
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scheduler.step() without gradients is fine here
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            if sched:
                sched.step()
    return out


@pytest.mark.parametrize("name,hyper,torch_name,torch_hyper", [
    ("constant", {}, None, {}),
    ("step", dict(step_size=7, gamma=0.5), "StepLR", dict(step_size=7, gamma=0.5)),
    ("step", dict(step_size=30), "StepLR", dict(step_size=30)),
    ("exponential", dict(gamma=0.97), "ExponentialLR", dict(gamma=0.97)),
    ("exponential", dict(gamma=1.01), "ExponentialLR", dict(gamma=1.01)),
    ("cosine", dict(t_max=50, eta_min=0.001), "CosineAnnealingLR", dict(T_max=50, eta_min=0.001)),
    ("cosine", dict(t_max=7), "CosineAnnealingLR", dict(T_max=7)),
    ("cosine", dict(t_max=1), "CosineAnnealingLR", dict(T_max=1)),
    ("cosine", dict(t_max=300), "CosineAnnealingLR", dict(T_max=300)),
])
def test_matches_torch_schedulers_for_300_steps(name, hyper, torch_name, torch_hyper):
    torch = pytest.importorskip("torch")
    cls = getattr(torch.optim.lr_scheduler, torch_name) if torch_name else None
    assert rates(name, 0.1, 300, **hyper) == torch_rates(cls, 0.1, 300, **torch_hyper)
