"""Optimizers as modules, torch-style: each module holds one optimizer's algorithm box, its
reference update and its hyperparameter table, on `optim.Optimizer`. The registry is here:
`CLASSES` lists every optimizer (one line each, in the order menus show them), `OPTIMIZERS` finds
one by name and `make_optimizer` builds it. (It lives here, not in `core/optim.py`, so that the
modules can import their base from there without a cycle.)
"""
from __future__ import annotations

from typing import Any

from ..optim import Optimizer
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .newton import Newton
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

CLASSES: tuple[type[Optimizer], ...] = (
    SGD,
    Adagrad,
    RMSprop,
    Adadelta,
    Adam,
    AdamW,
    Newton,
    LBFGS,
    NAdam,
    RAdam,
    Adamax,
    Rprop,
)

OPTIMIZERS: dict[str, type[Optimizer]] = {c.name: c for c in CLASSES}


def make_optimizer(name: str, n_params: int, **hyper: Any) -> Optimizer:
    """The optimizer called `name` for a parameter vector of length n_params."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](n_params, **hyper)
