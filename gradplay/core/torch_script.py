"""Export a run as a standalone PyTorch script that trains the same thing and prints the same losses.

`torch_script(session_or_config)` returns the text of a `.py` file that needs only torch (and
Python): it rebuilds the network as an `nn.Sequential` (or, on a landscape, f(x, y) in torch ops),
embeds the data, the initial weights and the order of the mini-batches as literals, uses the
`torch.optim` optimizer and `lr_scheduler` with the resolved hyperparameters, trains the same number
of steps in float64 and prints `step k loss v` (the batch loss before update k) and `final loss v`.

Why the numbers agree: gradplay follows torch's conventions step for step (the algorithm boxes of
core/optimizers/ and core/schedules.py); the script only has to start from the same numbers.
Initial weights come from the config's init stream (a fresh Session at step 0, whatever the given
session has done since), and the batch order is replayed from the config's batch stream exactly as
the session draws it.
Differences are then rounding: ~1e-15 per step, growing slowly with the steps.

A run edited while it trained (its timeline, core/timeline.py) is replayed segment by segment: at
each edit the script builds a fresh optimizer and scheduler from the new settings, as gradplay does,
and uses that segment's clipping, penalties and batches.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import config as config_mod
from . import dropout as dropout_mod
from . import features, optimizers
from . import nn as nn_mod
from . import timeline as timeline_mod
from .io import atomic_write_bytes
from .landscapes import get_landscape
from .problem import DatasetProblem, LandscapeProblem
from .problem import of_config as problem_of
from .session import Session

DEFAULT_STEPS = 100
MAX_SCRIPT_INDICES = 3_000_000  # batch indices written into a script (~20 MB of text)
WIDTH = 100  # wrap embedded literals at this many characters

_ACTIVATION_MODULES = {
    "linear": "nn.Identity()",
    "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU(negative_slope=0.01)",
    "elu": "nn.ELU(alpha=1.0)",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "gelu": 'nn.GELU(approximate="tanh")',
    "silu": "nn.SiLU()",
}

# loss name -> (docstring, body); `logits` is (n, outputs), `y` holds labels as the loss consumes them.
_LOSS_CODE = {
    "mse": ("Mean squared error, mean((ŷ − y)²) (no ½).",
            "return nn.functional.mse_loss(logits[:, 0], y)"),
    "mae": ("Mean absolute error, mean(|ŷ − y|).",
            "return nn.functional.l1_loss(logits[:, 0], y)"),
    "huber": ("Huber loss with delta 1: quadratic within ±1 of the target, linear beyond.",
              "return nn.functional.huber_loss(logits[:, 0], y, delta=1.0)"),
    "bce": ("Binary cross-entropy on the logit (the sigmoid is inside, for stability); y in {0, 1}.",
            "return nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y)"),
    "cross_entropy": ("Cross-entropy of the softmax over the logits; y holds class indices.",
                      "return nn.functional.cross_entropy(logits, y)"),
    "hinge": ("Hinge loss mean(max(0, 1 − y·ŷ)) with labels ±1. relu gives gradient 0 exactly at the "
              "hinge,\n    as gradplay does.",
              "return torch.relu(1.0 - y * logits[:, 0]).mean()"),
}

# landscape name -> body of f(x, y) in torch ops (the same formulas as gradplay/core/landscapes.py).
_LANDSCAPE_CODE = {
    "quadratic": ["return x**2 + y**2"],
    "ravine": ["return 0.5 * (x**2 + 20.0 * y**2)"],
    "booth": ["return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2"],
    "rosenbrock": ["return (1 - x) ** 2 + 100 * (y - x**2) ** 2"],
    "beale": ["return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2"],
    "saddle": ["return x**2 - y**2"],
    "monkey_saddle": ["return x**3 - 3 * x * y**2"],
    "himmelblau": ["return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2"],
    "six_hump_camel": ["return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2"],
    "styblinski_tang": ["return 0.5 * (x**4 - 16 * x**2 + 5 * x + y**4 - 16 * y**2 + 5 * y)"],
    "rastrigin": ["# 10(1 − cos) rather than 20 − 10 cos keeps f exactly 0 at the origin",
                  "return x**2 + y**2 + 10 * (1 - torch.cos(TAU * x)) + 10 * (1 - torch.cos(TAU * y))"],
    "ackley": ["# the cone term has no derivative at the origin: the inner where() makes its gradient 0",
               "# there (as gradplay does) instead of 0 · inf = nan",
               "r2 = 0.5 * (x**2 + y**2)",
               "r = torch.where(r2 > 0, torch.sqrt(torch.where(r2 > 0, r2, 1.0)), 0.0)",
               "# −20·expm1 and e − exp(...) are the textbook terms regrouped so that f(0, 0) is exactly 0",
               "bumps = torch.exp(0.5 * (torch.cos(TAU * x) + torch.cos(TAU * y)))",
               "return -20.0 * torch.expm1(-0.2 * r) + (math.e - bumps)"],
}


_NEWTON_CLASS = '''\
class DampedNewton(torch.optim.Optimizer):
    """Damped Newton: θ ← θ − lr · (H + damping·I)⁻¹ g, with the exact Hessian H of the loss.

    torch.optim has no Newton method, so this small class plays its part (and lets a scheduler
    drive lr). g is the gradient already in each parameter's .grad (after any clipping); H comes
    from torch.autograd.functional.hessian of `loss_of_vector`, the loss as a function of all
    parameters flattened into one vector.

    gradplay takes the same exact Hessian, on a landscape from its formula and on a network by
    forward-over-reverse differentiation, so the losses of this script and gradplay's differ only
    by rounding (which H⁻¹ amplifies somewhat).
    """

    def __init__(self, params, lr=1.0, damping=1e-3):
        super().__init__(params, {"lr": lr, "damping": damping})

    @torch.no_grad()
    def step(self, loss_of_vector):
        group = self.param_groups[0]
        params = group["params"]
        theta = torch.cat([p.reshape(-1) for p in params])
        grad = torch.cat([p.grad.reshape(-1) for p in params])
        with torch.enable_grad():
            hessian = torch.autograd.functional.hessian(loss_of_vector, theta)
        a = hessian + group["damping"] * torch.eye(theta.numel())
        try:
            direction = torch.linalg.solve(a, grad)
        except torch.linalg.LinAlgError:  # singular: least squares, as gradplay does
            direction = torch.linalg.lstsq(a, grad[:, None], driver="gelsd").solution[:, 0]
        offset = 0
        for p in params:
            n = p.numel()
            p -= group["lr"] * direction[offset:offset + n].view_as(p)
            offset += n
'''


# ----------------------------------------------------------------------------- literals
def _number(v: Any) -> str:
    """A Python literal that reads back as exactly this number (repr of a float64 round-trips)."""
    if isinstance(v, (bool, np.bool_)):
        return repr(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    return repr(f) if math.isfinite(f) else f"float({str(f)!r})"


def _wrap(items: list[str], indent: int) -> list[str]:
    """Comma-separated items in lines that fit WIDTH after `indent` spaces."""
    lines, line = [], ""
    for item in items:
        piece = item + ","
        if line and indent + len(line) + 1 + len(piece) > WIDTH:
            lines.append(line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    if line:
        lines.append(line)
    return lines


def _literal(a: Any, indent: int = 0, lead: int = 0) -> str:
    """Nested Python list literal of an array, one innermost row per line, wrapped at WIDTH.

    `indent` is the indentation of the line the literal starts on, `lead` the characters before it
    on that line (e.g. `X_TRAIN = `), so that one-line forms are only chosen when they fit.
    """
    rows: list[Any] | None
    if a is None:
        return "None"
    if isinstance(a, (list, tuple)) and not all(np.ndim(r) == 0 for r in a):
        rows = list(a)  # ragged (the batches): each row on its own
    else:
        a = np.asarray(a)
        if a.ndim == 0:
            return _number(a.item())
        rows = list(a) if a.ndim > 1 else None
    pad = " " * (indent + 4)
    if rows is None:
        items = [_number(v) for v in a.tolist()]
        one = "[" + ", ".join(items) + "]"
        if indent + lead + len(one) <= WIDTH:
            return one
        return "[\n" + "".join(f"{pad}{line}\n" for line in _wrap(items, indent + 4)) + " " * indent + "]"
    inner = [_literal(r, indent + 4, lead=1) for r in rows]  # lead 1: the comma after each row
    one = "[" + ", ".join(inner) + "]"
    if indent + lead + len(one) <= WIDTH and "\n" not in one:
        return one
    return "[\n" + "".join(f"{pad}{r},\n" for r in inner) + " " * indent + "]"


def _kwargs(hyper: Mapping[str, Any]) -> list[str]:
    """keyword=value pairs with exact literals; lists become tuples (torch's betas)."""
    out = []
    for k, v in hyper.items():
        if isinstance(v, (list, tuple)):
            text = "(" + ", ".join(_number(x) for x in v) + ")"
        elif v is None or isinstance(v, str):
            text = repr(v)
        else:
            text = _number(v)
        out.append(f"{k}={text}")
    return out


def _call(target: str, func: str, args: list[str], indent: int) -> list[str]:
    """`target = func(args)` on one line, or with the arguments on their own lines when too long."""
    one = f"{target} = {func}({', '.join(args)})"
    if indent + len(one) <= WIDTH:
        return [one]
    return [f"{target} = {func}("] + ["    " + line for line in _wrap(args, indent + 4)] + [")"]


def _comment_block(text: str) -> list[str]:
    """Text as `# ` comment lines (any line break in user text stays inside a comment)."""
    return [("# " + line).rstrip() for line in text.splitlines()]


# ----------------------------------------------------------------------------- the run to export
def _resolve(session_or_config: Session | Mapping) -> tuple[dict, Session | None]:
    if isinstance(session_or_config, Session):
        return session_or_config.run_config, session_or_config
    if isinstance(session_or_config, Mapping):
        return config_mod.resolve(dict(session_or_config)), None
    raise TypeError(f"torch_script needs a Session or a config dict, got {type(session_or_config).__name__}")


def _initial_theta(fresh: Session, init_params: Any) -> np.ndarray:
    """Step-0 parameters: the config's own (from its init stream) unless `init_params` replaces them.

    `init_params`: a flat vector of the session's parameter layout, [x, y] on a landscape, or a
    mapping {"W1": ..., "b1": ...} (an "init." prefix, as in the headless arrays, is accepted); names
    left out keep their step-0 values.
    """
    theta = fresh.theta.copy()
    if init_params is None:
        return theta
    if isinstance(init_params, Mapping):
        if fresh.model is None:
            raise ValueError("init_params for a landscape is the start point [x, y], not a mapping")
        views = dict(fresh.model.params())
        offsets = {}
        off = 0
        for name, v in views.items():
            offsets[name] = (off, v.shape)
            off += v.size
        for key, value in init_params.items():
            name = key[5:] if key.startswith("init.") else key
            if name not in offsets:
                raise ValueError(f"init_params: unknown parameter {key!r}; this network has {', '.join(views)}")
            start, shape = offsets[name]
            value = np.asarray(value, dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"init_params: {key!r} has shape {value.shape}, expected {shape}")
            theta[start:start + value.size] = value.ravel()
        return theta
    value = np.asarray(init_params, dtype=np.float64).ravel()
    if value.shape != theta.shape:
        raise ValueError(f"init_params: {value.size} numbers given, this run has {theta.size} parameters")
    return value.copy()




def _steps(session: Session | None, steps: int | None) -> int:
    if steps is None:
        steps = session.step if session is not None and session.step > 0 else DEFAULT_STEPS
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    return int(steps)


class Segment:
    """Steps [start, stop) of the run and the settings in force there (`text`: the edit that began it)."""

    def __init__(self, start: int, stop: int, cfg: dict, text: str = ""):
        self.start, self.stop, self.cfg, self.text = start, stop, cfg, text


def _segments(run_cfg: dict, steps: int) -> list[Segment]:
    """The run cut at its timeline's edits (one segment for an unedited run)."""
    edits = [e for e in run_cfg.get("timeline", [])
             if not e.get("restart") and timeline_mod.config_changes(e) and 0 < e["step"] < steps]
    bounds = [0] + [e["step"] for e in edits] + [steps]
    out = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        text = timeline_mod.describe(edits[i - 1]) if i else ""
        out.append(Segment(a, b, timeline_mod.config_at(run_cfg, a), text))
    return out


# ----------------------------------------------------------------------------- code sections
def _header(cfg: dict, steps: int, batched: bool = False, segments: int = 1) -> list[str]:
    from .. import __version__

    if not problem_of(cfg).has_data:
        what = "the landscape f(x, y), the start point, the optimizer and the learning-rate schedule"
    else:
        order = "the order of its mini-batches" if batched else "full batches"
        what = (f"the network with its initial weights, the data and {order}, the loss, the optimizer and "
                "the learning-rate schedule")
    paragraphs = [
        f"It rebuilds in PyTorch {what}. It trains {steps} optimizer steps in float64 and prints the loss "
        'before each step ("step k loss v") and at the end ("final loss v"). It needs only torch.',
        "Run as it is, its losses agree with gradplay's to about 1e-8 relative or better: the two differ "
        "only by rounding, which grows slowly with the steps (fast where training is chaotic, e.g. L-BFGS "
        "without a line search at a large lr).",
        "To carry the experiment on, edit it freely: the model, the loss and the training loop are plain "
        "PyTorch, and the literals at the end of the file hold gradplay's numbers.",
    ]
    if segments > 1:
        paragraphs.insert(1, f"The run was edited while it trained ({segments - 1} edit"
                          f"{'s' if segments > 2 else ''}, the [[timeline]] below). The script replays each edit at "
                          "its step: like gradplay, it then builds a fresh optimizer and scheduler from the new "
                          "settings (the old optimizer's state is dropped) and trains on with that segment's "
                          "clipping, penalties and batches.")
    lines = [f'"""A gradplay run as a standalone PyTorch script (exported by gradplay {__version__}).']
    for text in paragraphs:
        lines += [""] + textwrap.wrap(text, WIDTH - 4, break_on_hyphens=False)
    lines.append('"""')
    title = cfg.get("meta", {}).get("title")
    block = ["# The gradplay config this script reproduces:"]
    if title:
        block = _comment_block(title) + ["#"] + block
    block += _comment_block(_config_text(cfg))
    return lines + [""] + block


def _config_text(cfg: dict) -> str:
    """The resolved config as TOML, without the sections a landscape does not use and empty meta."""
    text = config_mod.dumps(cfg)
    landscape = not problem_of(cfg).has_data
    drop = {"[network]", "[loss]"} if landscape else set()
    out, skip = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skip = line in drop
        if skip or line.endswith('= ""'):
            continue
        if landscape and line.split(" = ")[0] in ("batch_size", "l1", "l2"):
            continue
        out.append(line)
    text = "\n".join(out).replace("[meta]\n\n", "")
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _imports(cfg: dict) -> list[str]:
    out = ["import math", "", "import torch"]
    data = problem_of(cfg).has_data
    if data:
        out.append("from torch import nn")
    out += ["", "# gradplay computes in float64 throughout; in float32 the numbers would drift apart in a few steps",
            "torch.set_default_dtype(torch.float64)"]
    if not data and cfg["task"]["name"] in ("rastrigin", "ackley"):
        out.append("TAU = 2.0 * math.pi")
    return out


def _settings(cfg: dict, steps: int, batch_size: int | None) -> list[str]:
    t = cfg["training"]
    out = [f"STEPS = {steps}  # optimizer steps to train"]
    if batch_size is not None:
        out.append(f"BATCH_SIZE = {batch_size}  # mini-batch size (the batches themselves are in BATCHES)")
    if t["clip_norm"] > 0:
        out.append(f"CLIP_NORM = {_number(t['clip_norm'])}  # rescale the gradient to this global norm at most")
    if t["clip_value"] > 0:
        out.append(f"CLIP_VALUE = {_number(t['clip_value'])}  # clamp every gradient component to ±this")
    data = problem_of(cfg).has_data
    if data and t["l1"]:
        out.append(f"L1 = {_number(t['l1'])}  # penalty L1·Σ|W| (weights only)")
    if data and t["l2"]:
        out.append(f"L2 = {_number(t['l2'])}  # penalty L2·ΣW² (weights only; no ½)")
    return out


def _landscape_section(cfg: dict) -> list[str]:
    land = get_landscape(cfg["task"]["name"])
    out = ["def f(x, y):", f'    """{land.title}: f(x, y) = {land.formula}."""']
    out += ["    " + line for line in _LANDSCAPE_CODE[land.name]]
    return out


def _dropout_ps(cfg: dict) -> tuple[float, ...]:
    """The dropout probability of each hidden layer (all 0 without dropout)."""
    net = cfg["network"]
    return dropout_mod.layer_probabilities(net["dropout"], len(net["hidden"]))


def _dropout_section(cfg: dict) -> list[str]:
    """gradplay's dropout masks in torch (core/dropout.py), when a hidden layer drops units."""
    if not any(_dropout_ps(cfg)):
        return []
    key = dropout_mod.stream_key(cfg["seed"])
    return [
        "# Dropout: gradplay draws its masks from a hash of (seed, step, layer, row in the batch, unit)",
        "# (SplitMix64), not from a random generator, so this script draws the very same masks.",
        f"DROPOUT_KEY = {key:#x}  # the dropout stream of seed {cfg['seed']}",
        "",
        "",
        *dropout_mod.TORCH_SOURCE.rstrip("\n").split("\n"),
    ]


def _model_section(cfg: dict, n_out: int) -> list[str]:
    net = cfg["network"]
    sizes = [len(net["inputs"]), *net["hidden"], n_out]
    acts = [_ACTIVATION_MODULES[a] for a in nn_mod.layer_activations(net["activation"], len(net["hidden"]))]
    ps = _dropout_ps(cfg)
    dropped = any(ps)
    same_act = len(set(acts)) <= 1
    uniform = same_act and not dropped  # the loop needs no per-layer list
    arrow = " -> ".join(map(str, sizes))
    if net["hidden"]:
        parts = "Linear -> BatchNorm1d -> " if net["batch_norm"] else "Linear -> "
        what = (f"{acts[0].split('(')[0][3:]} per hidden layer" if same_act else
                f"the activation of each hidden layer ({', '.join(a.split('(')[0][3:] for a in acts)})")
        if dropped:
            what += f" -> dropout (p = {', '.join(f'{p:g}' for p in ps)})"
        doc = f"{arrow}: {parts}{what}, then linear logits."
    else:
        doc = f"{arrow}: no hidden layer, one linear layer that outputs the logits."
    out = ["def build_model():", f'    """{doc}"""', "    layers = []"]
    if net["hidden"]:
        shapes = list(zip(sizes[:-2], sizes[1:-1]))
        if dropped:
            out.append(f"    dropout = {list(ps)}  # probability per hidden layer (inverted dropout)")
            out.append(f"    for layer, ((fan_in, fan_out), act) in enumerate(zip({shapes}, [{', '.join(acts)}])):")
        else:
            out.append(f"    for fan_in, fan_out in {shapes}:" if uniform else
                       f"    for (fan_in, fan_out), act in zip({shapes}, [{', '.join(acts)}]):")
        out.append("        layers.append(nn.Linear(fan_in, fan_out))")
        if net["batch_norm"]:
            out += ["        # eps and momentum are torch's defaults, which gradplay uses too",
                    "        layers.append(nn.BatchNorm1d(fan_out, eps=1e-05, momentum=0.1))"]
        out.append(f"        layers.append({acts[0] if uniform else 'act'})")
        if dropped:
            out += ["        if dropout[layer] > 0:  # after the activation, training passes only",
                    "            layers.append(HashDropout(dropout[layer], layer))"]
    out += [
        f"    layers.append(nn.Linear({sizes[-2]}, {sizes[-1]}))",
        "    model = nn.Sequential(*layers)",
        "",
        "    # gradplay's dense layer is z = a @ W + b with W of shape (fan_in, fan_out); nn.Linear",
        "    # computes a @ weight.T + bias, so weight = W.T.",
        "    linears = [m for m in model if isinstance(m, nn.Linear)]",
    ]
    if net["batch_norm"]:
        out.append("    norms = [m for m in model if isinstance(m, nn.BatchNorm1d)]")
    out += [
        "    with torch.no_grad():",
        "        for i, layer in enumerate(linears, start=1):",
        '            layer.weight.copy_(torch.tensor(INIT[f"W{i}"]).T)',
        '            layer.bias.copy_(torch.tensor(INIT[f"b{i}"]))',
    ]
    if net["batch_norm"]:
        out += [
            "        for i, norm in enumerate(norms, start=1):  # batch-norm scale (gamma) and shift (beta)",
            '            norm.weight.copy_(torch.tensor(INIT[f"gamma{i}"]))',
            '            norm.bias.copy_(torch.tensor(INIT[f"beta{i}"]))',
        ]
    out.append("    return model")
    return out


def _loss_section(cfg: dict, functional: bool, penalty_args: bool = False) -> list[str]:
    """data_loss and objective; with `penalty_args` the penalties are objective's l1 and l2 arguments
    (a timeline that changes them), else the constants L1 and L2 (when not zero)."""
    doc, body = _LOSS_CODE[cfg["loss"]["name"]]
    t = cfg["training"]
    penalty = penalty_args or bool(t["l1"] or t["l2"])
    extra = ", l1=0.0, l2=0.0" if penalty_args else ""
    summary = "Mean loss of the batch (x, y)" + (", plus the weight penalties" if penalty else "") + "."
    out = ["def data_loss(logits, y):", f'    """{doc}"""', f"    {body}", "", ""]
    if functional:
        out += [
            "def unflatten(model, theta):",
            '    """{name: tensor} views of one flat vector, shaped like the model\'s parameters."""',
            "    params, offset = {}, 0",
            "    for name, p in model.named_parameters():",
            "        params[name] = theta[offset:offset + p.numel()].view_as(p)",
            "        offset += p.numel()",
            "    return params",
            "",
            "",
            f"def objective(model, x, y{extra}, params=None):",
            f'    """{summary}',
            "",
            "    With `params` ({name: tensor}) the model is evaluated at those values instead of its own",
            "    (torch.func.functional_call), which is how Newton's method takes the Hessian.",
            '    """',
            "    if params is None:",
            "        params = dict(model.named_parameters())",
            "    else:  # the Hessian's extra pass must leave batch norm's running statistics alone",
            "        params = {**params, **{k: b.clone() for k, b in model.named_buffers()}}",
            "    logits = torch.func.functional_call(model, params, (x,))",
            "    loss = data_loss(logits, y)",
        ]
        weights = "[params[f\"{k}.weight\"] for k, m in model.named_children() if isinstance(m, nn.Linear)]"
    else:
        out += [
            f"def objective(model, x, y{extra}):",
            f'    """{summary}"""',
            "    loss = data_loss(model(x), y)",
        ]
        weights = "[m.weight for m in model if isinstance(m, nn.Linear)]"
    if penalty:
        out += [
            "    # L1/L2 act on the weight matrices only: not on biases, not on batch-norm scale and shift",
            f"    weights = {weights}",
        ]
        if penalty_args:
            out += ["    if l1:", "        loss = loss + l1 * sum(w.abs().sum() for w in weights)",
                    "    if l2:", "        loss = loss + l2 * sum((w * w).sum() for w in weights)"]
        if t["l1"] and not penalty_args:
            out.append("    loss = loss + L1 * sum(w.abs().sum() for w in weights)")
        if t["l2"] and not penalty_args:
            out.append("    loss = loss + L2 * sum((w * w).sum() for w in weights)")
    out.append("    return loss")
    return out


def _optimizer_lines(cfg: dict, params: str) -> list[str]:
    """`optimizer = ...` with every resolved hyperparameter spelled out (indented 4 in main())."""
    oc = dict(cfg["optimizer"])
    name = oc.pop("name")
    if name == "lbfgs" and oc.get("line_search_fn") in ("none", None):
        oc["line_search_fn"] = None
    comment = {
        "sgd": "# SGD: the momentum buffer starts as the first gradient",
        "adamw": "# AdamW: weight decay acts on the parameters directly (decoupled), not through the moments",
        "lbfgs": "# L-BFGS: each step() runs up to max_iter quasi-Newton iterations",
        "newton": "# torch.optim has no Newton method: DampedNewton above implements gradplay's",
    }.get(name)
    func = "DampedNewton" if name == "newton" else f"torch.optim.{optimizers.OPTIMIZERS[name].torch_class}"
    return ([comment] if comment else []) + _call("optimizer", func, [params, *_kwargs(oc)], 4)


def _schedule_lines(cfg: dict) -> list[str]:
    sc = cfg["schedule"]
    name = sc["name"]
    if name == "constant":
        return ["# constant learning rate: no scheduler"]
    if name == "step":
        call = f"StepLR(optimizer, step_size={sc['step_size']}, gamma={_number(sc['gamma'])})"
    elif name == "exponential":
        call = f"ExponentialLR(optimizer, gamma={_number(sc['gamma'])})"
    else:
        call = f"CosineAnnealingLR(optimizer, T_max={sc['t_max']}, eta_min={_number(sc['eta_min'])})"
    return ["# stepped once per optimizer step: step k uses the rate after k calls of scheduler.step()",
            f"scheduler = torch.optim.lr_scheduler.{call}"]


def _clip_lines(cfg: dict, params: str, literal: bool = False) -> list[str]:
    t = cfg["training"]
    out = []
    if t["clip_norm"] > 0:
        value = _number(t["clip_norm"]) if literal else "CLIP_NORM"
        out.append(f"torch.nn.utils.clip_grad_norm_({params}, max_norm={value})")
    if t["clip_value"] > 0:
        value = _number(t["clip_value"]) if literal else "CLIP_VALUE"
        out.append(f"torch.nn.utils.clip_grad_value_({params}, clip_value={value})")
    return out


def _step_lines(cfg: dict, params: str, loss_expr: str, newton_fn: str, segmented: bool = False) -> list[str]:
    """One training step's body: loss before the update, gradient, clipping, update."""
    name = cfg["optimizer"]["name"]
    t = cfg["training"]
    clipping = t["clip_norm"] > 0 or t["clip_value"] > 0
    stop = ["if not math.isfinite(loss.item()):  # gradplay pauses here, before the update",
            '    print(f"step {step}: the loss is {loss.item()}, stopping")',
            *(["    halted = True"] if segmented else []),
            "    break"]
    if name == "lbfgs":
        out = [
            "def closure():  # L-BFGS evaluates the loss and gradient itself, several times per step",
            "    optimizer.zero_grad()",
            f"    loss = {loss_expr}",
            "    loss.backward()",
            "    return loss",
            "",
            "loss = optimizer.step(closure)  # returns the loss at the start of the step",
        ]
        if clipping:
            out[:0] = ["# gradplay's clipping acts on the gradient that first-order methods and Newton use;",
                       "# L-BFGS takes its gradients from the closure unclipped, so no clipping here."]
        stop[0] = "if not math.isfinite(loss.item()):  # gradplay pauses before such a step"
        return out + stop
    out = ["optimizer.zero_grad()", f"loss = {loss_expr}"] + stop + ["loss.backward()"]
    out += _clip_lines(cfg, params, literal=segmented)
    out.append(f"optimizer.step({newton_fn})" if name == "newton" else "optimizer.step()")
    return out


def _loop(cfg: dict, step_body: list[str], batches: bool, span: tuple[int, int] | None = None,
          some_full: bool = False) -> list[str]:
    out = ["for step in range(STEPS):" if span is None else f"for step in range({span[0]}, {span[1]}):"]
    if problem_of(cfg).has_data and any(_dropout_ps(cfg)):
        out.append('    DROPOUT_STEP["step"] = step  # every pass of this step drops by its masks')
    if batches and some_full:
        out += ["    if BATCHES[step] is None:  # a full-batch step",
                "        xb, yb = x_train, y_train",
                "    else:",
                "        idx = torch.tensor(BATCHES[step])",
                "        xb, yb = x_train[idx], y_train[idx]"]
    elif batches:
        out += ["    idx = torch.tensor(BATCHES[step])", "    xb, yb = x_train[idx], y_train[idx]"]
    out += ["    " + line if line else "" for line in step_body]
    if cfg["schedule"]["name"] != "constant":
        out.append("    scheduler.step()")
    out.append('    print(f"step {step} loss {loss.item()!r}")')
    return out


def _indent(lines: list[str], by: int = 4) -> list[str]:
    return [" " * by + line if line else "" for line in lines]


def _training(segments: list[Segment], params: str, body_for, batches: bool, some_full: bool) -> list[str]:
    """main()'s training: optimizer, scheduler and loop, once per segment of the timeline.

    `body_for(cfg, segmented)` gives one step's lines under that segment's settings."""
    if len(segments) == 1:
        cfg = segments[0].cfg
        return (_optimizer_lines(cfg, params) + _schedule_lines(cfg)
                + _loop(cfg, body_for(cfg, False), batches, some_full=some_full))
    out = ["halted = False  # gradplay stops training at a non-finite loss", ""]
    for i, seg in enumerate(segments):
        block = (_optimizer_lines(seg.cfg, params) + _schedule_lines(seg.cfg)
                 + _loop(seg.cfg, body_for(seg.cfg, True), batches, (seg.start, seg.stop), some_full))
        if i == 0:
            out.append(f"# steps {seg.start} to {seg.stop - 1}: the config's settings")
            out += block
        else:
            note = textwrap.wrap(f"{seg.text}. A fresh optimizer and scheduler from here, as gradplay builds "
                                 f"them at an edit (steps {seg.start} to {seg.stop - 1}).", WIDTH - 6)
            out += ["", *("# " + line for line in note), "if not halted:"] + _indent(block)
    return out


def _landscape_main(segments: list[Segment]) -> list[str]:
    params = "[point]"

    def body(cfg: dict, segmented: bool) -> list[str]:
        return _step_lines(cfg, params, "f(point[0], point[1])", "lambda p: f(p[0], p[1])", segmented)

    out = [
        "def main():",
        "    # On a landscape the parameters are the point (x, y) itself and the loss is f.",
        "    point = torch.tensor(START, requires_grad=True)",
    ]
    out += _indent(_training(segments, params, body, batches=False, some_full=False))
    out += [
        "    with torch.no_grad():",
        '        print(f"final loss {f(point[0], point[1]).item()!r}")',
        '    print(f"final point {point[0].item()!r} {point[1].item()!r}")',
    ]
    return out


def _hand_edits(run_cfg: dict, steps: int) -> dict[int, list[tuple[str, tuple[int, ...], float]]]:
    """Parameters set by hand during the run (params.* timeline keys), by step; those of step 0 are
    in the initial parameters already."""
    out: dict[int, list[tuple[str, tuple[int, ...], float]]] = {}
    for e in run_cfg.get("timeline", []):
        if 0 < e["step"] < steps:
            for key, value in timeline_mod.param_changes(e).items():
                parsed = timeline_mod.parse_param_key(key)
                assert parsed is not None  # the timeline was resolved
                out.setdefault(e["step"], []).append((*parsed, float(value)))
    return out


def _hand_section(hand: dict[int, list[tuple[str, tuple[int, ...], float]]]) -> list[str]:
    if not hand:
        return []
    rows = [f"    {step}: {edits!r}," for step, edits in sorted(hand.items())]
    return [
        "# Weights set by hand while gradplay trained (the timeline's params.* entries): before step k",
        "# trains, each (name, index, value) is written into the model, W1[i, j] being input i and unit j;",
        "# the optimizer keeps its state, as gradplay's does.",
        "EDITS = {", *rows, "}",
        "",
        "",
        "def set_by_hand(model, step):",
        "    linears = [m for m in model if isinstance(m, nn.Linear)]",
        "    norms = [m for m in model if isinstance(m, nn.BatchNorm1d)]",
        "    with torch.no_grad():",
        "        for name, index, value in EDITS.get(step, ()):",
        "            kind = name.rstrip(\"0123456789\")",
        "            layer = int(name[len(kind):]) - 1",
        "            if kind == \"W\":  # nn.Linear keeps W transposed",
        "                linears[layer].weight[index[1], index[0]] = value",
        "            elif kind == \"b\":",
        "                linears[layer].bias[index[0]] = value",
        "            else:  # gamma, beta: the batch norm's scale and shift",
        "                (norms[layer].weight if kind == \"gamma\" else norms[layer].bias)[index[0]] = value",
    ]


def _dataset_main(segments: list[Segment], batches: bool, has_test: bool, some_full: bool,
                  penalty_args: bool, hand: bool = False) -> list[str]:
    cfg = segments[-1].cfg  # what the run ends with (batch norm, loss and optimizer kind at the end)
    params = "model.parameters()"
    xb, yb = ("xb", "yb") if batches else ("x_train", "y_train")

    def body(seg_cfg: dict, segmented: bool) -> list[str]:
        t = seg_cfg["training"]
        pen = f", l1={_number(t['l1'])}, l2={_number(t['l2'])}" if penalty_args else ""
        return (["set_by_hand(model, step)"] if hand else []) + _step_lines(
            seg_cfg, params, f"objective(model, {xb}, {yb}{pen})",
            f"lambda theta: objective(model, {xb}, {yb}{pen}, params=unflatten(model, theta))", segmented)

    ydtype = "torch.long" if cfg["loss"]["name"] == "cross_entropy" else "torch.float64"
    out = [
        "def main():",
        "    model = build_model()",
        "    model.train()  # batch statistics in batch norm while training",
        f"    x_train, y_train = torch.tensor(X_TRAIN), torch.tensor(Y_TRAIN, dtype={ydtype})",
    ]
    out += _indent(_training(segments, params, body, batches, some_full))
    pen = (f", l1={_number(cfg['training']['l1'])}, l2={_number(cfg['training']['l2'])}" if penalty_args else "")
    out += [
        "",
        "    # The final loss: the training objective on the whole training set (in train mode, so batch",
        "    # norm uses that set's statistics), i.e. what one more full-batch step would print first.",
    ]
    if any(_dropout_ps(cfg)):
        out.append('    DROPOUT_STEP["step"] = STEPS  # with that step\'s dropout masks')
    out += [
        "    with torch.no_grad():",
        f'        print(f"final loss {{objective(model, x_train, y_train{pen}).item()!r}}")',
    ]
    if has_test:
        out += [
            "        # Test loss as gradplay evaluates it: eval mode (batch norm uses its running statistics,",
            "        # dropout drops nothing), without the weight penalties.",
        ]
        if cfg["network"]["batch_norm"] and cfg["optimizer"]["name"] in ("lbfgs", "newton"):
            out += ["        # The running statistics move with every train-mode forward pass, and this optimizer's",
                    "        # extra evaluations make a different number of them here than in gradplay."]
        out += [
            "        model.eval()",
            f"        x_test, y_test = torch.tensor(X_TEST), torch.tensor(Y_TEST, dtype={ydtype})",
            '        print(f"final test loss {data_loss(model(x_test), y_test).item()!r}")',
        ]
    return out


def _data_section(fresh: Session, params: dict[str, np.ndarray],
                  batches: list[np.ndarray | None] | None) -> list[str]:
    d = fresh.data
    assert d is not None  # a dataset task
    integer_labels = d.labels != "real"

    def labels(y: np.ndarray) -> str:
        return _literal(y.astype(np.int64) if integer_labels else y, lead=10)

    what = {"binary": "labels 0/1", "pm1": "labels ±1", "index": "class indices",
            "real": "real targets"}[d.labels]
    if fresh.inputs == list(features.PLANE):
        seen = f"inputs x of shape ({len(d.x_train)}, 2)"
    else:  # the values themselves, so that torch sees the very bits gradplay's network saw
        seen = (f"the network's inputs of shape ({len(d.x_train)}, {len(fresh.inputs)}), the features\n# "
                f"{', '.join(fresh.inputs)} of the points (x1, x2),")
    out = [
        f"# The training set drawn by gradplay: {seen} and {what}.",
        f"X_TRAIN = {_literal(fresh.inputs_train, lead=10)}",
        f"Y_TRAIN = {labels(d.y_train)}",
        "",
        f"# The held-out test set ({len(d.x_test)} points), only evaluated at the end.",
        f"X_TEST = {_literal(fresh.inputs_test, lead=9)}",
        f"Y_TEST = {labels(d.y_test)}",
        "",
        "# Initial parameters: W{i} (fan_in, fan_out) and b{i} per dense layer"
        + (", gamma{i} and beta{i}\n# per batch norm" if fresh.config["network"]["batch_norm"] else "") + ".",
        "INIT = {",
    ]
    for name, value in params.items():
        out.append(f'    "{name}": {_literal(value, 4, lead=len(name) + 4)},')
    out.append("}")
    if batches is not None:
        out += ["",
                "# The indices into X_TRAIN of each step's mini-batch: a fresh shuffle of the training set",
                "# every epoch, cut into consecutive batches (what a DataLoader with shuffle=True does)."]
        if fresh.config["network"]["batch_norm"]:
            out.append("# Batch norm needs two samples: a leftover batch of one is skipped.")
        if any(b is None for b in batches):
            out.append("# None: a step that saw the whole training set (a full batch).")
        out.append(f"BATCHES = {_literal(batches, lead=10)}")
    return out


# ----------------------------------------------------------------------------- public API
def torch_script(session_or_config: Session | Mapping, init_params: Any = None,
                 steps: int | None = None) -> str:
    """Python source of a standalone PyTorch script that retrains this run and prints its losses.

    session_or_config: a Session (its config is used; its own training does not matter, and a session
        whose optimizer was changed mid-run is exported as if its current config ran from step 0),
        or a config dict (resolved here).
    init_params: step-0 parameters to start from instead of the config's (see `_initial_theta`).
    steps: steps to train; default the session's step count, or DEFAULT_STEPS for a config or an
        untrained session.

    The script prints "step k loss v" for k = 0..steps-1 (the loss before update k; for datasets the
    batch loss with penalties, for landscapes f) and "final loss v" (f at the end; for datasets the
    training objective on the whole training set), all with repr precision. Landscape scripts also
    print "final point x y"; dataset scripts with a test set "final test loss v" (eval mode).
    """
    run_cfg, session = _resolve(session_or_config)
    steps = _steps(session, steps)
    fresh = Session(run_cfg)  # step 0 of this run: its init, data and batch streams untouched
    cfg = fresh.config  # the settings at step 0
    segments = _segments(run_cfg, steps)
    theta = _initial_theta(fresh, init_params)
    newton = any(seg.cfg["optimizer"]["name"] == "newton" for seg in segments)
    newton_class = _NEWTON_CLASS.rstrip("\n").split("\n") if newton else []
    # an edited run spells out each segment's clipping and penalties where it starts
    plain = [f"STEPS = {steps}  # optimizer steps to train"]

    problem = fresh.problem
    if isinstance(problem, LandscapeProblem):
        parts = [_header(run_cfg, steps, segments=len(segments)), _imports(cfg),
                 _settings(cfg, steps, None) if len(segments) == 1 else plain,
                 _landscape_section(cfg), newton_class, _landscape_main(segments),
                 ["# The start point (x, y).", f"START = {_literal(theta, lead=8)}"]]
    else:
        batches = fresh.upcoming_batches(steps)
        some_full = batches is not None and any(b is None for b in batches)
        fresh.theta[:] = theta
        assert isinstance(problem, DatasetProblem)
        params = {k: v.copy() for k, v in problem.model.params().items()}
        penalty_args = len(segments) > 1 and any(seg.cfg["training"]["l1"] or seg.cfg["training"]["l2"]
                                                for seg in segments)
        settings = (_settings(cfg, steps, None if batches is None else fresh.batch_size)
                    if len(segments) == 1 else plain)
        hand = _hand_edits(run_cfg, steps)
        parts = [_header(run_cfg, steps, batched=batches is not None, segments=len(segments)), _imports(cfg),
                 settings, _dropout_section(cfg), _model_section(cfg, problem.model.n_out),
                 _loss_section(cfg, functional=newton, penalty_args=penalty_args), newton_class,
                 _dataset_main(segments, batches is not None, len(problem.data.x_test) > 0, some_full, penalty_args,
                               bool(hand)),
                 ["# " + "-" * 97, "# gradplay's numbers", ""] + _data_section(fresh, params, batches),
                 _hand_section(hand)]
    parts.append(['if __name__ == "__main__":', "    main()"])
    return _join(parts)


def _join(parts: Sequence[list[str]]) -> str:
    """Sections separated by two blank lines (PEP 8 between top-level definitions)."""
    return "\n\n\n".join("\n".join(p) for p in parts if p) + "\n"


def capped_steps(session: Session) -> tuple[int, str | None]:
    """Steps a script of `session` covers, and why it covers fewer than the run (None if all).

    The script writes every sampled batch as a literal: a genuine 1M-step run gave a 102 MB file
    built with 975 MB, and a 16 KB session claiming 10^9 steps grew to 11.2 GB. Above
    MAX_SCRIPT_INDICES batch indices the script covers the run's first steps only, and says so."""
    steps = session.step
    if not session.problem.has_data:
        return steps, None
    rows = max(b for b in session.batch_sizes_ahead() + [session.batch_rows(session.run_config["training"]
                                                                            ["batch_size"])])
    if rows >= session.n_train or steps * rows <= MAX_SCRIPT_INDICES:
        return steps, None
    cap = MAX_SCRIPT_INDICES // rows
    return cap, (f"the PyTorch script covers the first {cap:,} of the run's {steps:,} steps: every step's "
                 f"batch is written into it, and more would pass {MAX_SCRIPT_INDICES:,} indices")


def write_torch_script(session_or_config: Session | Mapping, path: str | Path, init_params: Any = None,
                       steps: int | None = None, notes: list[str] | None = None) -> Path:
    """Write `torch_script(...)` to `path` atomically; returns the path. For a session and no
    `steps`, a very long sampled run is cut to its first steps (`capped_steps`; the reason goes
    to `notes`)."""
    if steps is None and isinstance(session_or_config, Session):
        steps, why = capped_steps(session_or_config)
        if why and notes is not None:
            notes.append(why)
    path = Path(path)
    atomic_write_bytes(path, torch_script(session_or_config, init_params, steps).encode("utf-8"))
    return path
