"""The training objective: the loss a step minimises, as a function of the parameters.

- `batch_loss` is the one definition of a step's loss on a dataset task: the loss of the network's
  output on a batch (train mode, so batch norm normalises with the batch's own statistics and
  dropout drops the units of the step's masks, core/dropout.py) plus
  l1·Σ|W| + l2·ΣW², and its gradient by backpropagation. The session's step, the gradient check,
  the curvature probes and the second-order optimizers all evaluate it.
- `BatchObjective` is that loss on one fixed batch as a function of a flat θ. At the live
  parameters (`theta is model.theta`) `loss_and_grad` is the step's own pass; anywhere else, and in
  `value`/`value_and_grad`/`grad`, it leaves the network exactly as it was (θ, gradient, batch-norm
  running statistics, caches), so a Hessian by differences or a line search costs no side effect.
  It belongs to one step: every evaluation uses that step's dropout masks, so with dropout it is
  still a deterministic function of θ (what finite differences and L-BFGS need).
- `LandscapeObjective` is f of a 2-D landscape with its exact derivatives.
Both satisfy `optim.Objective`, what second-order methods ask of a problem.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import losses
from .hessian import network_hessian
from .nn import MLP

if TYPE_CHECKING:
    from .landscapes import Landscape
    from .session import Session


def batch_loss(model: MLP, loss_name: str, x: np.ndarray, y: np.ndarray, l1: float, l2: float,
               grad: bool = True, step: int = 0) -> float:
    """The loss of step `step` on the batch (x, y) at the model's θ (with that step's dropout
    masks); with `grad`, its gradient is left in `model.grad` (and the forward/backward caches are
    the batch's)."""
    out = model.forward(x, train=True, step=step)
    loss, dout = losses.loss_and_grad(loss_name, out, y)
    if grad:
        model.backward(dout)
    if l1 or l2:
        loss += losses.penalty(model.theta, model.weight_mask, l1, l2)
        if grad:
            losses.add_penalty_grad(model.theta, model.weight_mask, l1, l2, model.grad)
    return loss


class BatchObjective:
    """The training loss of step `step` on one fixed batch as a function of a flat θ (n,)."""

    def __init__(self, model: MLP, loss_name: str, x: np.ndarray, y: np.ndarray, l1: float, l2: float,
                 step: int = 0):
        self.model, self.loss_name, self.x, self.y, self.l1, self.l2 = model, loss_name, x, y, l1, l2
        self.step = int(step)
        self.n = model.theta.size

    @classmethod
    def of_session(cls, session: Session, idx: np.ndarray | None = None,
                   penalties: bool = True) -> BatchObjective:
        """The session's loss on the training rows `idx` (None: the full training set), with its
        penalties in force (or without them), and the dropout masks of its next step."""
        from .problem import DatasetProblem  # here: problem.py builds its steps' objectives from this module

        p = session.problem
        if not isinstance(p, DatasetProblem):
            raise ValueError("a batch objective needs a dataset task (landscapes have exact derivatives)")
        x, y = p.batch(idx)
        l1, l2 = (session._l1, session._l2) if penalties else (0.0, 0.0)
        return cls(p.model, p.loss_name, x, y, l1, l2, step=session.step)

    def _evaluate(self, grad: bool) -> float:
        return batch_loss(self.model, self.loss_name, self.x, self.y, self.l1, self.l2, grad, self.step)

    def loss_and_grad_here(self) -> float:
        """The step's pass: L at the live θ, its gradient left in `model.grad`."""
        return self._evaluate(grad=True)

    def loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """(L(θ), ∇L(θ) as a new array); at the live θ this is the step's own pass."""
        if theta is self.model.theta:
            return self.loss_and_grad_here(), self.model.grad.copy()
        return self.value_and_grad(theta)

    def value(self, theta: np.ndarray) -> float:
        with self.model.unchanged(), np.errstate(all="ignore"):
            self.model.theta[:] = theta
            return self._evaluate(grad=False)

    def value_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """(L(θ), ∇L(θ) as a new (n,) array), the network left as it was."""
        with self.model.unchanged(), np.errstate(all="ignore"):
            self.model.theta[:] = theta
            value = self._evaluate(grad=True)
            return value, self.model.grad.copy()

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return self.value_and_grad(theta)[1]

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Exact Hessian of this batch's loss at θ; the network is left as it was."""
        return network_hessian(self.model, self.x, self.y, self.loss_name, self.l1, self.l2, theta=theta,
                               step=self.step)


class LandscapeObjective:
    """f, ∇f and the exact Hessian of a 2-D landscape, for second-order optimizers."""

    def __init__(self, land: Landscape):
        self.land = land

    def loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        return self.land.value(theta), self.land.gradient(theta)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        return self.land.hessian(theta)
