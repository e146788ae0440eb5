"""What a run trains: a 2-D loss landscape or a network on a dataset.

A `Problem` owns everything that differs between the two task kinds — the loss and gradient of a
step, the full-set evaluation, the current loss, the network's output over the plane, the epoch's
length, the layers — and answers the questions the rest of the program asks about the kind
(`has_data`, `has_layers`, ...). `Session.problem` is the instance; code narrows with
`isinstance(problem, DatasetProblem)` to reach the typed `model`/`data` (or `landscape`).

A problem holds no training state of its own: θ, the optimizer, the random streams and the batch
order are the session's. The one exception is a dataset's network, whose flat vectors *are* the
session's θ and gradient; a twin for another thread gets its own network by `with_model`, which
keeps the data and the rest shared read-only.
"""
from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from . import datasets, dropout, features, landscapes, losses
from .nn import MLP
from .objective import BatchObjective, LandscapeObjective
from .unit_maps import plane


class Problem(ABC):
    """The task of one run; `kind` is the config's `task.kind` ("function" or "dataset")."""

    kind: ClassVar[str]
    #: training points: train/test sets, accuracy, mini-batches and epochs
    has_data: ClassVar[bool]
    #: a network with layers of weights and biases (the weights, activations and unit maps panels)
    has_layers: ClassVar[bool]
    #: θ is a point of the drawn plane: the run traces a path (history columns x, y), from a start
    #: the user can move, over contours of the loss
    traces_path: ClassVar[bool]
    #: the name of the fast path's engine (Session.engine) for this kind of problem
    fast_engine: ClassVar[str]
    #: the tasks of this kind by name (the Setup form's list and thumbnails), and the usual one
    tasks: ClassVar[dict[str, Any]]
    default_task: ClassVar[str]

    @property
    def has_epochs(self) -> bool:
        """Steps come in epochs (passes over the training set)."""
        return self.has_data

    @property
    def draws_decision_map(self) -> bool:
        """The plane shows the network's output over the inputs, with the points on it."""
        return self.has_data

    @property
    def can_move_start(self) -> bool:
        """A click on the plane restarts the run from that point."""
        return self.traces_path

    @property
    @abstractmethod
    def layer_slices(self) -> list[slice]:
        """The blocks of θ whose norms the history records (a landscape's θ is one block)."""

    @property
    @abstractmethod
    def n_layers(self) -> int:
        """The network's layers of weights; 0 for a landscape."""

    @property
    @abstractmethod
    def n_train(self) -> int:
        """Rows a full batch has (1 for a landscape: every step sees the whole problem)."""

    @abstractmethod
    def params(self) -> tuple[np.ndarray, np.ndarray]:
        """The arrays (θ, gradient) the session trains, at their start."""

    @abstractmethod
    def loss_and_grad(self, theta: np.ndarray, grad: np.ndarray, batch: np.ndarray | None, *,
                      step: int, l1: float, l2: float) -> tuple[float, Any]:
        """A step's loss at θ, its gradient written into `grad`, and the objective second-order
        optimizers need; `batch` is the training rows of the step (None: all of them)."""

    @abstractmethod
    def evaluate(self, theta: np.ndarray) -> dict[str, float]:
        """The full-set losses (and accuracies) at θ, in eval mode."""

    def current_loss(self, theta: np.ndarray) -> float:
        """The loss at θ: f of a landscape, the full training set's loss of a network."""
        return self.evaluate(theta)["train_loss"]

    def confusion(self) -> dict[str, np.ndarray] | None:
        """The train and test confusion matrices at the live parameters; None without classes."""
        return None

    def history_columns(self) -> dict[str, int]:
        """Columns the history records besides the loss and the norms."""
        return {}


class LandscapeProblem(Problem):
    """Minimise f(x, y) of a 2-D landscape from a start point; θ = (x, y)."""

    kind = "function"
    has_data = False
    has_layers = False
    traces_path = True
    fast_engine = "scalar"
    tasks = landscapes.LANDSCAPES
    default_task = "rosenbrock"

    def __init__(self, landscape: landscapes.Landscape, start: tuple[float, float] | list[float]):
        self.landscape = landscape
        self.start = (float(start[0]), float(start[1]))
        self.objective = LandscapeObjective(landscape)

    @classmethod
    def from_config(cls, config: dict) -> LandscapeProblem:
        task = config["task"]
        return cls(landscapes.get_landscape(task["name"]), task["start"])

    @property
    def layer_slices(self) -> list[slice]:
        return [slice(0, 2)]

    @property
    def n_layers(self) -> int:
        return 0

    @property
    def n_train(self) -> int:
        return 1

    def params(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.start, dtype=np.float64), np.zeros(2)

    def loss_and_grad(self, theta: np.ndarray, grad: np.ndarray, batch: np.ndarray | None, *,
                      step: int, l1: float, l2: float) -> tuple[float, Any]:
        land = self.landscape
        x, y = float(theta[0]), float(theta[1])
        loss = float(land.f(np.float64(x), np.float64(y)))
        try:
            grad[:] = land.grad_fn(x, y)
        except OverflowError:  # plain-float maths far out after a divergence: report it as a halt
            grad[:] = math.inf
        return loss, self.objective

    def evaluate(self, theta: np.ndarray) -> dict[str, float]:
        return {"train_loss": self.landscape.value(theta)}

    def current_loss(self, theta: np.ndarray) -> float:
        return self.landscape.value(theta)

    def history_columns(self) -> dict[str, int]:
        return {"x": 1, "y": 1}


class DatasetProblem(Problem):
    """Train an MLP on a dataset's points with a loss; θ is the network's flat parameter vector."""

    kind = "dataset"
    has_data = True
    has_layers = True
    traces_path = False
    fast_engine = "compiled"
    tasks = datasets.DATASETS
    default_task = "spiral"

    def __init__(self, data: datasets.Dataset, model: MLP, loss_name: str, inputs: list[str]):
        self.data, self.model, self.loss_name = data, model, loss_name
        self.inputs = inputs  # the network's inputs: the points themselves, or features of them
        self.inputs_train = features.transform(inputs, data.x_train)
        self.inputs_test = features.transform(inputs, data.x_test)

    @classmethod
    def from_config(cls, config: dict, data_rng: np.random.Generator,
                    init_rng: np.random.Generator) -> DatasetProblem:
        """The config's dataset drawn from `data_rng` and its network initialised from `init_rng`."""
        task, net = config["task"], config["network"]
        info = datasets.task_info(task)
        loss_name = config["loss"]["name"]
        data = datasets.from_task(task, data_rng, labels=datasets.label_format_for(loss_name, info))
        inputs: list[str] = net["inputs"]
        model = MLP(len(inputs), net["hidden"], losses.output_units(loss_name, info.n_classes),
                    activation=net["activation"], init=net["init"], init_std=net["init_std"],
                    batch_norm=net["batch_norm"], rng=init_rng, dropout=net["dropout"],
                    dropout_key=dropout.stream_key(config["seed"]))
        return cls(data, model, loss_name, inputs)

    def with_model(self, model: MLP) -> DatasetProblem:
        """The same problem training another copy of the network (a twin for another thread)."""
        twin = copy.copy(self)
        twin.model = model
        return twin

    @property
    def layer_slices(self) -> list[slice]:
        return self.model.layer_slices

    @property
    def n_layers(self) -> int:
        return self.model.n_layers

    @property
    def n_train(self) -> int:
        return len(self.data.x_train)

    @property
    def n_classes(self) -> int:
        """Classes of the labels; 0 for a regression."""
        return self.data.info.n_classes

    def params(self) -> tuple[np.ndarray, np.ndarray]:
        return self.model.theta, self.model.grad

    def batch(self, idx: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The network's inputs and the targets of the training rows `idx` (None: all of them)."""
        if idx is None:
            return self.inputs_train, self.data.y_train
        return self.inputs_train[idx], self.data.y_train[idx]

    def loss_and_grad(self, theta: np.ndarray, grad: np.ndarray, batch: np.ndarray | None, *,
                      step: int, l1: float, l2: float) -> tuple[float, Any]:
        # θ and the gradient are the network's own vectors (params()): the pass writes them in place
        xb, yb = self.batch(batch)
        objective = BatchObjective(self.model, self.loss_name, xb, yb, l1, l2, step=step)
        return objective.loss_and_grad_here(), objective

    def _splits(self) -> tuple[tuple[str, np.ndarray, np.ndarray], ...]:
        d = self.data
        return ("train", self.inputs_train, d.y_train), ("test", self.inputs_test, d.y_test)

    def evaluate(self, theta: np.ndarray) -> dict[str, float]:
        res: dict[str, float] = {}
        with np.errstate(all="ignore"):
            for split, x, y in self._splits():
                if len(x) == 0:
                    res[f"{split}_loss"], res[f"{split}_acc"] = math.nan, math.nan
                    continue
                out = self.model.predict(x)
                res[f"{split}_loss"] = losses.loss_value(self.loss_name, out, y)
                acc = losses.accuracy(self.loss_name, out, y)
                res[f"{split}_acc"] = math.nan if acc is None else acc
        return res

    def confusion(self) -> dict[str, np.ndarray] | None:
        k = self.n_classes
        if k == 0:
            return None
        with np.errstate(all="ignore"):
            out = {split: losses.confusion_matrix(self.loss_name, self.model.predict(x), y, k)
                   for split, x, y in self._splits()}
        return {split: m if m is not None else np.zeros((k, k), dtype=np.int64) for split, m in out.items()}

    def output_grid(self, n: int = 80, view: tuple[float, float, float, float] | None = None,
                    ny: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The network's displayed output over `view` (x0, x1, y0, y1; the dataset's view plane by
        default): xs (n,), ys (ny,), Z (ny, n[, C]); ny defaults to n."""
        xs, ys, pts = plane(self.data.info.view if view is None else view, n, ny)
        with np.errstate(all="ignore"):
            z = losses.prediction(self.loss_name, self.model.predict(features.transform(self.inputs, pts)))
        return xs, ys, z.reshape((len(ys), n) + z.shape[1:])


PROBLEMS: dict[str, type[Problem]] = {cls.kind: cls for cls in (LandscapeProblem, DatasetProblem)}


def problem_class(kind: str) -> type[Problem]:
    """The class of a config's `task.kind` ("function" or "dataset"), to ask before a run exists."""
    return PROBLEMS[kind]


def of_config(config: dict) -> type[Problem]:
    """The problem class of a config (resolved or raw but checked), to ask before a session exists."""
    return problem_class(config["task"]["kind"])


def from_config(config: dict, rngs: dict[str, np.random.Generator],
                data_rng: np.random.Generator | None = None) -> Problem:
    """The problem of a resolved config; a dataset is drawn from `data_rng` (default rngs["data"])
    and the network initialised from rngs["init"]."""
    if of_config(config) is LandscapeProblem:
        return LandscapeProblem.from_config(config)
    return DatasetProblem.from_config(config, rngs["data"] if data_rng is None else data_rng, rngs["init"])
