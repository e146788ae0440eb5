"""Optimizers with torch.optim semantics on one flat float64 parameter vector: what they share.

Each optimizer is a small class that validates its hyperparameters (torch's defaults and messages),
keeps its state in a plain dict and calls one pure function, `<name>_update`, that does the maths in
place. That function is the readable reference: its docstring carries the algorithm box and its body
follows torch's single-tensor code operation by operation (torch fuses a few of them with FMA, so the
two agree to about an ulp per step rather than bit for bit). The optimizers live one per module in
`core/optimizers/`, which also holds the registry (`OPTIMIZERS`, `make_optimizer`); this module holds
their base class `Optimizer`, the update functions' scratch and shared steps, the hyperparameter
checks, gradient clipping and the numerical Hessian.

`theta` and `grad` are 1-D float64 arrays of one length; `theta` is updated in place because other
objects hold views into it, and `grad` is never modified. In the update functions each
`np.f(a, b, c)` writes its result into c (numpy's positional `out`), so nothing is allocated.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np


class Objective(Protocol):
    """The loss on the current batch, for methods that evaluate more than the given gradient."""

    def loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]: ...
    def hessian(self, theta: np.ndarray) -> np.ndarray: ...


class Workspace:
    """Scratch for the update functions, allocated once per optimizer so that a step allocates nothing.

    `vec` holds three vectors of theta's size. `fill(...)` writes the step's scalars into 0-d arrays
    and returns them: on small vectors a numpy call costs ~0.2 µs, a Python float operand adds
    ~0.25 µs of conversion to it, a 0-d array operand adds nothing. The results are identical.
    """

    def __init__(self, n: int) -> None:
        self.vec = [np.zeros(n) for _ in range(3)]
        self._scalars = [np.zeros(()) for _ in range(6)]

    def fill(self, a: float, b: float = 0.0, c: float = 0.0, d: float = 0.0, e: float = 0.0,
             f: float = 0.0) -> list[np.ndarray]:
        s = self._scalars  # unrolled: a loop over *values costs twice as much
        s[0][()], s[1][()], s[2][()], s[3][()], s[4][()], s[5][()] = a, b, c, d, e, f
        return s


def _add_weight_decay(theta: np.ndarray, grad: np.ndarray, weight_decay: float, w: Workspace) -> np.ndarray:
    """g + λθ in the workspace's third vector (torch's coupled weight decay, grad.add(θ, alpha=λ))."""
    wd, *_ = w.fill(weight_decay)
    g = np.multiply(theta, wd, w.vec[2])
    return np.add(g, grad, g)


def weight_decay_step(theta: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float, decoupled: bool,
                      w: Workspace) -> np.ndarray:
    """The gradient after weight decay, torch's two ways: decoupled (AdamW) θ ← θ(1 − γλ) in place and
    g unchanged; coupled g + λθ (in the workspace's third vector)."""
    if weight_decay == 0:
        return grad
    if decoupled:
        decay, *_ = w.fill(1 - lr * weight_decay)
        np.multiply(theta, decay, theta)
        return grad
    return _add_weight_decay(theta, grad, weight_decay, w)


def moments_update(exp_avg: np.ndarray, exp_avg_sq: np.ndarray, g: np.ndarray, beta1: float, beta2: float,
                   w: Workspace) -> None:
    """m ← m + (1 − β₁)(g − m) (torch's lerp) and v ← β₂v + ((1 − β₂)g)g, as torch's Adam family."""
    tmp = w.vec[0]
    c1, b2, c2, *_ = w.fill(1 - beta1, beta2, 1 - beta2)
    np.add(exp_avg, np.multiply(np.subtract(g, exp_avg, tmp), c1, tmp), exp_avg)
    np.multiply(exp_avg_sq, b2, exp_avg_sq)
    np.add(exp_avg_sq, np.multiply(np.multiply(g, c2, tmp), g, tmp), exp_avg_sq)


# ----------------------------------------------------------------------------- hyperparameter checks, base class
def _nonneg(v: float) -> bool:
    return v >= 0


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def number_pair(name: str, key: str, value: Any) -> tuple[float, float]:
    """Two numbers (a TOML list or a tuple), as floats."""
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(map(_is_number, value)):
        raise ValueError(f"{name}: {key} must be two numbers, got {value!r}")
    return float(value[0]), float(value[1])


def betas_pair(name: str, value: Any) -> tuple[float, float]:
    """Adam-family betas: two numbers in [0, 1), checked in torch's words."""
    betas = number_pair(name, "betas", value)
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    return betas


def _invalid(key: str, value: Any) -> ValueError:
    """torch's wording: "Invalid learning rate: -1", "Invalid momentum value: -0.5"."""
    label = {"lr": "learning rate", "eps": "epsilon value"}.get(key, f"{key} value")
    return ValueError(f"Invalid {label}: {value}")


class Optimizer:
    """Base class: validates hyperparameters, owns the state and hands both to the update function.

    `hyper` holds the resolved hyperparameters (defaults filled in), `lr` the current learning rate
    (a schedule sets it before each step, like torch's param_group['lr']) and `state` plain numbers
    and arrays. Subclasses list torch's `defaults` and a range rule per numeric hyperparameter.
    """

    name: ClassVar[str]
    torch_class: ClassVar[str | None] = None  # torch.optim's class of the same semantics (exported scripts)
    defaults: ClassVar[dict[str, Any]]
    # The hyperparameter table beyond `defaults`: config ranges and form labels (label, help) of keys
    # that config.HYPER_RANGES and the form's LABELS do not already know (an optimizer module brings its own)
    ranges: ClassVar[dict[str, tuple[float, float]]] = {}
    labels: ClassVar[dict[str, tuple[str, str]]] = {}
    needs_objective: ClassVar[bool] = False  # True: step() needs an Objective, not only the gradient
    # The `state` keys of the per-parameter arrays, in the order _setup allocates them (the compiled
    # kernels of core/fast take them in this order); an option that is off leaves its key out of `state`
    state_names: ClassVar[tuple[str, ...]] = ()
    _rules: ClassVar[dict[str, Callable[[float], bool] | None]] = {}  # numeric key -> allowed (None: any)

    def __init__(self, n_params: int, **hyper: Any) -> None:
        if not _is_number(n_params) or int(n_params) != n_params or n_params < 1:
            raise ValueError(f"n_params must be a positive integer, got {n_params!r}")
        unknown = [k for k in hyper if k not in self.defaults]
        if unknown:
            raise ValueError(f"{self.name}: unknown hyperparameter {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(self.defaults)}")
        self.n_params = int(n_params)
        self.hyper = self._validate({**self.defaults, **hyper})
        self.lr: float = self.hyper["lr"]
        self.state: dict[str, Any] = {"step": 0}
        self._work = Workspace(self.n_params)
        for k, v in self.hyper.items():  # cached: step() reads attributes, not the dict
            setattr(self, f"_{k}", v)
        self._setup()

    def _validate(self, h: dict[str, Any]) -> dict[str, Any]:
        """Type and range checks in torch's order and words; numbers become floats."""
        for key, default in self.defaults.items():
            v = h[key]
            if isinstance(default, bool):
                if not isinstance(v, (bool, np.bool_)):
                    raise ValueError(f"{self.name}: {key} must be true or false, got {v!r}")
                h[key] = bool(v)
            elif key in self._rules:
                if not _is_number(v):
                    raise ValueError(f"{self.name}: {key} must be a number, got {v!r}")
                rule = self._rules[key]
                if (rule is not None and not rule(v)) or math.isnan(v):
                    raise _invalid(key, v)
                h[key] = float(v)
        return h

    def _setup(self) -> None:
        """Allocate the state arrays."""

    def step(self, theta: np.ndarray, grad: np.ndarray, objective: Objective | None = None) -> None:
        """Update `theta` in place from `grad` (the caller's gradient, left untouched)."""
        raise NotImplementedError

    def _objective(self, objective: Objective | None) -> Objective:
        if objective is None:
            raise ValueError(f"{self.name} evaluates the loss itself: step() needs an objective")
        return objective

    # -- saving
    def state_dict(self) -> dict[str, Any]:
        """A plain copy (numbers, lists, arrays) from which `load_state_dict` continues exactly."""
        hyper = {k: list(v) if isinstance(v, tuple) else v for k, v in self.hyper.items()}
        state = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self.state.items()}
        return {"name": self.name, "n_params": self.n_params, "hyper": hyper, "lr": self.lr, "state": state}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Continue from a `state_dict()`; on any error this optimizer is left as it was."""
        if d.get("name") != self.name:
            raise ValueError(f"state is for optimizer {d.get('name')!r}, not {self.name!r}")
        fresh = type(self)(self.n_params, **d["hyper"])  # re-validates the hyperparameters
        fresh.lr = float(d["lr"])
        fresh._load_state(dict(d["state"]))
        self.__dict__.update(fresh.__dict__)

    def copy_state_from(self, other: Optimizer) -> None:
        """Become `other`'s state (a twin with the same settings) in place: O(parameters) copies into
        the arrays step() holds, no rebuilding. `Session.sync_from` took the state_dict →
        load_state_dict round trip every frame: 4.7 of 6.2 ms on an 8×256 net with Adam. Any other
        case (another optimizer or settings, state not yet allocated alike) takes that round trip."""
        same = (type(other) is type(self) and other.n_params == self.n_params and other.hyper == self.hyper
                and other.state.keys() == self.state.keys()
                and all(v.shape == self.state[k].shape and isinstance(self.state[k], np.ndarray)
                        if isinstance(v, np.ndarray) else isinstance(v, (int, float)) or v is None
                        for k, v in other.state.items()))  # (lists, e.g. L-BFGS's history: the round trip)
        if not same:
            self.load_state_dict(other.state_dict())
            return
        self.lr = other.lr
        for k, v in other.state.items():
            if isinstance(v, np.ndarray):
                np.copyto(self.state[k], v)
            else:
                self.state[k] = v

    def _load_state(self, state: dict[str, Any]) -> None:
        if set(state) != set(self.state):
            raise ValueError(f"{self.name} state needs keys {sorted(self.state)}, got {sorted(state)}")
        for k, v in state.items():
            if isinstance(self.state[k], np.ndarray):
                v = np.asarray(v, dtype=np.float64)
                if v.shape != self.state[k].shape:
                    raise ValueError(f"{self.name} state {k!r} has shape {v.shape}, "
                                     f"expected {self.state[k].shape}")
                np.copyto(self.state[k], v)  # the same arrays: step() holds references to them
            elif isinstance(self.state[k], float):  # a running product (NAdam's μ product)
                self.state[k] = float(v)
            else:
                self.state[k] = int(v)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}(n_params={self.n_params}, {args})"


# ----------------------------------------------------------------------------- clipping, Hessian
def clip_grad_norm_(grad: np.ndarray, max_norm: float) -> float:
    """Scale `grad` in place to global L2 norm ≤ max_norm, as torch.nn.utils.clip_grad_norm_.

    The scale is max_norm / (‖g‖ + 1e-6), applied only when below 1 (so a clipped norm ends just
    under max_norm). max_norm ≤ 0 switches clipping off. Returns ‖g‖ before clipping.
    """
    total_norm = math.sqrt(float(np.dot(grad, grad)))
    if max_norm > 0:
        clip_coef = max_norm / (total_norm + 1e-6)
        if not clip_coef >= 1.0:  # "not >=" so a nan norm spreads to grad, as torch's clamp does
            grad *= clip_coef
    return total_norm


def clip_grad_value_(grad: np.ndarray, clip_value: float) -> None:
    """Clamp every component of `grad` in place to [−clip_value, clip_value]; ≤ 0 switches it off."""
    if clip_value > 0:
        np.clip(grad, -clip_value, clip_value, out=grad)


def numerical_hessian(grad_fn: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                      h: float = 1e-5) -> np.ndarray:
    """(n, n) Hessian by central differences of the gradient, symmetrised: (J + Jᵀ) / 2.

    Column i is (∇f(θ + h eᵢ) − ∇f(θ − h eᵢ)) / (2h): 2n gradient calls. `theta` is not modified.
    """
    x = np.array(theta, dtype=np.float64)
    n = x.size
    jac = np.empty((n, n))
    for i in range(n):
        xi = x[i]
        x[i] = xi + h
        g_plus = np.array(grad_fn(x), dtype=np.float64)  # a copy: grad_fn may reuse its buffer
        x[i] = xi - h
        g_minus = np.asarray(grad_fn(x), dtype=np.float64)
        x[i] = xi
        # divide by the spacing actually represented in floating point, not by 2h
        jac[:, i] = (g_plus - g_minus) / ((xi + h) - (xi - h))
    return (jac + jac.T) / 2
