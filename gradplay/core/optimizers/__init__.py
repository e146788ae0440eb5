"""Optimizers as modules, torch-style: each module holds one optimizer's algorithm box, its
reference update and its hyperparameter table, on `optim.Optimizer`. `core/optim.py` registers
the classes listed here (one line each) beside its own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .adamax import Adamax
from .nadam import NAdam
from .radam import RAdam
from .rprop import Rprop

if TYPE_CHECKING:
    from ..optim import Optimizer

CLASSES: tuple[type[Optimizer], ...] = (
    NAdam,
    RAdam,
    Adamax,
    Rprop,
)
