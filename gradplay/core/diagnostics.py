"""Plain-words diagnostics of a Session: gradient flow, dead and saturated units, stability, halts.

Each check returns a `Finding`: a headline number, a level ("ok", "warning" or "n/a"), a sentence a
learner can act on, and the per-layer numbers behind it for plotting. Thresholds:

- vanishing: a layer's gradient norm < VANISHING_RATIO (1e-3) × the last layer's, as a geometric
  mean over the last `window` recorded steps (gradients are noisy; the log-mean ignores single spikes);
- exploding: any layer's norm > EXPLODING_NORM (1e3) at any of those steps (checked first: after a blow-up
  the smoothed ratios mean nothing), or a layer's norm > EXPLODING_RATIO (1e3) × the last layer's;
- dead ReLU: a unit whose output is 0 for every training point (it receives no gradient at all);
- saturation: tanh with |h| > 0.99, sigmoid with h < 0.01 or h > 0.99 (slope below 0.02 and 0.01);
  the fraction counts (point, unit) pairs, i.e. the share of units saturated on an average point;
- stability: lr above `curvature.stability_limit` (2/λmax for sgd, 2(1+β)/λmax with momentum β).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import curvature
from .gradcheck import default_batch
from .nn import BN_EPS, MLP, activate
from .objective import BatchObjective
from .problem import DatasetProblem, LandscapeProblem

VANISHING_RATIO = 1e-3
EXPLODING_RATIO = 1e3
EXPLODING_NORM = 1e3
SATURATED_TANH = 0.99
SATURATED_SIGMOID = 0.01
WARN_FRACTION = 0.25     # dead or saturated share above which a warning is given
SOLVED_ACCURACY = 0.95   # training accuracy at which saturation reads as confidence, not trouble
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass
class Finding:
    """One diagnostic. `value` is the headline number; `details` holds the arrays behind it."""

    key: str                   # "gradient_flow" | "dead_relu" | "saturation" | "stability" | "halt"
    level: str                 # "ok" | "warning" | "n/a"
    message: str
    value: float = math.nan
    details: dict[str, Any] = field(default_factory=dict)
    suggestions: list[tuple[str, dict]] = field(default_factory=list)  # (text, config.with_changes kwargs)


def pow10(x: float) -> str:
    """A ratio as the nearest power of ten, for people: 3e-6 -> '10⁻⁶' (10⁻⁵·⁵ would be too precise)."""
    if not x > 0:
        return "0"
    return "10" + str(round(math.log10(x))).translate(_SUPERSCRIPT)


def gradient_flow(session, window: int = 20) -> Finding:
    """Per-layer gradient norms relative to the last layer's, smoothed over the last `window` steps.

    details: norms (L,), ratios (L,) = norms / norms[-1]. Before any step the current batch's
    gradient is computed instead.
    """
    if not session.problem.has_layers or session.n_layers < 2:
        return Finding("gradient_flow", "n/a", "Gradient flow compares layers; this task has one.")
    h = session.history
    if len(h):
        rows = np.atleast_2d(h.get("grad_norm")[-window:])
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            norms = np.exp(np.mean(np.log(rows), axis=0))
    else:
        loss = BatchObjective.of_session(session, default_batch(session))
        g = loss.grad(session.theta.copy())
        rows = norms = np.sqrt(np.add.reduceat(g * g, session.starts))[None, :]
        norms = rows[0]
    peak = float(np.max(rows))           # an explosion shows in single steps, so no smoothing here
    last = norms[-1]
    details = {"norms": norms, "ratios": norms / last if last > 0 else np.full_like(norms, np.nan)}
    if peak > EXPLODING_NORM:
        return Finding("gradient_flow", "warning",
                       f"Gradient norms reached {peak:.3g} in the last {len(rows)} steps: exploding gradients. "
                       f"Try gradient clipping, a smaller learning rate or a gentler initialisation.", peak,
                       details, [("Clip the gradient norm at 1", {"training": {"clip_norm": 1.0}})])
    if not (last > 0 and np.isfinite(norms).all()):
        return Finding("gradient_flow", "n/a", "No finite gradient reaches the last layer here, so the "
                       "layers cannot be compared.", math.nan, details)
    ratios = details["ratios"]
    i_min, i_max = int(np.argmin(ratios[:-1])), int(np.argmax(ratios[:-1]))
    L = session.n_layers
    if ratios[i_min] < VANISHING_RATIO:
        net = session.config["network"]
        fixes: list[tuple[str, dict]] = []  # the type of Finding.suggestions
        tips: list[str] = []
        if {"sigmoid", "tanh"} & set(session.model.activations):
            fixes.append(("Use ReLU with He init", {"network": {"activation": "relu", "init": "he_normal"}}))
            tips.append("ReLU with He init")
        elif not net["init"].startswith("he_"):
            fixes.append(("Use He init", {"network": {"init": "he_normal"}}))
            tips.append("He init")
        if not net["batch_norm"]:
            fixes.append(("Add batch norm", {"network": {"batch_norm": True}}))
            tips.append("batch norm")
        tip = ", or ".join(tips)
        size = ("no gradient at all" if ratios[i_min] == 0 else
                f"a gradient {pow10(ratios[i_min])} the size of layer {L}'s")
        return Finding("gradient_flow", "warning",
                       f"Layer {i_min + 1} gets {size}: vanishing gradients. The early layers barely "
                       f"learn.{' Try ' + tip + '.' if tip else ''}", float(ratios[i_min]), details, fixes)
    if ratios[i_max] > EXPLODING_RATIO:
        return Finding("gradient_flow", "warning",
                       f"Layer {i_max + 1} gets a gradient {pow10(ratios[i_max])} the size of layer {L}'s: "
                       f"exploding gradients. Try gradient clipping, a smaller learning rate or a gentler "
                       f"initialisation.", float(ratios[i_max]), details,
                       [("Clip the gradient norm at 1", {"training": {"clip_norm": 1.0}})])
    return Finding("gradient_flow", "ok",
                   f"Gradients reach every layer: the smallest is {ratios[i_min]:.2g} of the last layer's.",
                   float(ratios[i_min]), details)


def hidden_outputs(model: MLP, x: np.ndarray) -> list[np.ndarray]:
    """Each hidden layer's output (n, width) for inputs x (n, n_in), touching no cache or statistic.

    Batch norm normalises with the statistics of x itself, as training does (in eval mode the running
    statistics of an early run would make healthy units look dead).
    """
    outs, a = [], x
    for i in range(model.n_layers - 1):
        z = a @ model.W[i] + model.b[i]
        if model.batch_norm:
            z = (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + BN_EPS) * model.gamma[i] + model.beta[i]
        a = activate(model.activations[i], z)
        outs.append(a)
    return outs


def _layers_of(session, names: tuple[str, ...]) -> list[int]:
    """The hidden layers (0-based) of a dataset session's network whose activation is one of `names`."""
    if not session.problem.has_layers:
        return []
    return [i for i, a in enumerate(session.model.activations) if a in names]


def _hidden(session, x):
    if not session.problem.has_layers or session.n_layers < 2:
        return None
    with np.errstate(all="ignore"):
        return hidden_outputs(session.model, session.inputs_train if x is None else x)


def dead_relus(session, x: np.ndarray | None = None) -> Finding:
    """Fraction of ReLU units that output 0 on every point of x (default: the training set).

    details: per_layer (L−1,) fractions, dead: list of boolean masks (width,).
    """
    layers = _layers_of(session, ("relu",))
    outs = _hidden(session, x) if layers else None
    if outs is None:
        return Finding("dead_relu", "n/a", "Dead units are a ReLU problem; this network has no ReLUs.")
    dead = [np.all(h <= 0.0, axis=0) for h in outs]
    n_dead = sum(int(dead[i].sum()) for i in layers)
    n_units = sum(dead[i].size for i in layers)
    frac = n_dead / n_units
    # per layer: the fraction on ReLU layers, nan on layers of another activation
    details = {"per_layer": np.array([dead[i].mean() if i in layers else math.nan for i in range(len(dead))]),
               "dead": dead}
    if n_dead == 0:
        return Finding("dead_relu", "ok", "No dead ReLUs: every unit is active on some training point.",
                       0.0, details)
    what = f"{n_dead} of {n_units} ReLUs ({frac:.0%}) output 0 for every training point"
    if frac <= WARN_FRACTION:
        return Finding("dead_relu", "ok", f"{what}: dead, but a few dead units are normal.", frac, details)
    return Finding("dead_relu", "warning",
                   f"{what}: they are dead and get no gradient, so they never recover. Try a smaller "
                   f"learning rate, He init, or leaky_relu.", frac, details,
                   [("Use leaky_relu", {"network": {"activation": "leaky_relu"}})])


def _train_accuracy(session) -> float:
    """Training accuracy: the last evaluation's if it is less than an epoch old (the window records
    one every few frames), else a fresh full pass over the training set."""
    ev = session.evals
    if len(ev) and session.step - ev.steps[len(ev) - 1] <= session.steps_per_epoch:
        return float(ev.last("train_acc"))
    return session.evaluate(record=False).get("train_acc", math.nan)


def saturation(session, x: np.ndarray | None = None) -> Finding:
    """Share of sigmoid/tanh outputs in the flat tails (default inputs: the training set).

    details: per_layer (L−1,) saturated fractions, per_unit: list of (width,) fractions.
    """
    layers = _layers_of(session, ("tanh", "sigmoid"))
    outs = _hidden(session, x) if layers else None
    if outs is None:
        return Finding("saturation", "n/a", "Saturation concerns sigmoid and tanh units; there are none here.")
    acts = session.model.activations
    act = " and ".join(sorted({acts[i] for i in layers}))
    sat = [np.abs(h) > SATURATED_TANH if acts[i] == "tanh" else
           (h < SATURATED_SIGMOID) | (h > 1 - SATURATED_SIGMOID) for i, h in enumerate(outs) if i in layers]
    per_unit = [s.mean(axis=0) for s in sat]
    frac = float(np.mean(np.concatenate(per_unit)))
    # per layer: the saturated fraction on sigmoid/tanh layers, nan on layers of another activation
    share = dict(zip(layers, (p.mean() for p in per_unit)))
    details: dict[str, Any] = {"per_layer": np.array([share.get(i, math.nan) for i in range(len(outs))]),
                               "per_unit": per_unit}
    worst = int(np.nanargmax(details["per_layer"]))
    acc = _train_accuracy(session) if frac > WARN_FRACTION else math.nan
    if frac > WARN_FRACTION and acc >= SOLVED_ACCURACY:
        # A well-fit classifier's units saturate on the points far from their boundary: confident
        # features, not a gradient problem (the default spiral net reads ~48% once solved).
        return Finding("saturation", "ok",
                       f"{frac:.0%} of the {act} units sit in their flat tails, which is usual once a "
                       f"classifier is confident: {acc:.0%} of the training set is right. Early in "
                       f"training the same share would starve the gradient.", frac, details)
    if frac > WARN_FRACTION:
        return Finding("saturation", "warning",
                       f"{frac:.0%} of the {act} units sit in their flat tails (worst: layer {worst + 1}, "
                       f"{details['per_layer'][worst]:.0%}), where the slope is almost 0, so little gradient "
                       f"passes. Try batch norm, a smaller init or a smaller learning rate.", frac, details,
                       [("Add batch norm", {"network": {"batch_norm": True}}),
                        ("Use xavier_uniform init", {"network": {"init": "xavier_uniform"}})])
    return Finding("saturation", "ok", f"{frac:.0%} of the {act} units are saturated.", frac, details)


def stability(session, lam_max: float | None = None) -> Finding:
    """Is the learning rate below the stability limit for the local curvature?

    Landscapes use the exact Hessian at the current point; networks use `lam_max` if given (e.g.
    from a CurvatureTracker), else compute it on the full training set. details: lam_max, limit, lr.
    """
    opt = session.config["optimizer"]
    lr = float(session.schedule.lr)
    direction = None
    problem = session.problem
    if lam_max is None and isinstance(problem, DatasetProblem) and opt["name"] != "sgd":
        return Finding("stability", "n/a", f"{opt['name']} has no fixed step-size limit: it rescales its "
                       f"steps itself.", math.nan, {"lam_max": math.nan, "limit": None, "lr": lr})
    if lam_max is None:
        if isinstance(problem, LandscapeProblem):
            c = curvature.landscape_curvature(problem.landscape, session.theta)
            lam_max, direction = c.lam_max, c.eigenvectors[:, -1]
        else:
            lam_max = curvature.network_top_eigenvalue(session, iters=100).value
    limit = curvature.stability_limit(opt, lam_max) if np.isfinite(lam_max) else None
    details = {"lam_max": lam_max, "limit": limit, "lr": lr, "direction": direction}
    if limit is None and opt["name"] == "sgd":
        return Finding("stability", "n/a", "The curvature is not finite here.", math.nan, details)
    if limit is None:
        return Finding("stability", "n/a",
                       f"{opt['name']} has no fixed step-size limit: it rescales its steps itself "
                       f"(top curvature here {lam_max:.3g}).", math.nan, details)
    beta = opt.get("momentum", 0.0)
    rule = "2/λmax" if beta == 0 else "2(1+β)/((1+2β)λmax)" if opt.get("nesterov") else "2(1+β)/λmax"
    rule = f"the stability limit {rule} = {limit:.3g}" + (
        "" if beta == 0 else f" (momentum β = {beta:g}{', Nesterov' if opt.get('nesterov') else ''})")
    if not np.isfinite(limit):
        return Finding("stability", "ok", f"No upward curvature here (λmax = {lam_max:.3g}): no learning "
                       f"rate overshoots along it.", 0.0, details)
    where = "" if direction is None else f" along ({direction[0]:.2f}, {direction[1]:.2f})"
    if lr > limit:
        return Finding("stability", "warning",
                       f"The learning rate {lr:.3g} is above {rule}; λmax = {lam_max:.3g}{where}. "
                       f"Each step jumps past the bottom along that direction and lands farther away than it "
                       f"started, so the error grows. "
                       f"Use a rate below {limit:.3g}.", lr / limit, details,
                       [(f"Set lr to {0.9 * limit:.3g}", {"optimizer": {"lr": float(f'{0.9 * limit:.3g}')}})])
    return Finding("stability", "ok",
                   f"The learning rate {lr:.3g} is {lr / limit:.0%} of {rule}"
                   f"{' (it oscillates across the steepest direction)' if lr > limit / 2 else ''}.",
                   lr / limit, details)


def halt_advice(session) -> Finding | None:
    """Why training stopped on a non-finite value and what to change; None if it has not halted."""
    if not session.halted:
        return None
    cfg = session.config
    opt, net, train = cfg["optimizer"], cfg.get("network", {}), cfg["training"]
    lr = float(opt.get("lr", 0.0))
    parts, suggestions = [session.halted], []
    gn = session.history.get("grad_norm")          # (steps,) or (steps, L)
    total = np.sqrt(np.sum(gn.reshape(len(gn), -1) ** 2, axis=1))
    k = min(total.size, 20)
    if k >= 5 and total[-k] > 0 and total[-1] / total[-k] > 100:
        parts.append(f"The gradient norm grew from {total[-k]:.3g} to {total[-1]:.3g} over the last {k} "
                     f"steps: the updates fed on themselves (exploding gradients).")
    if isinstance(session.problem, LandscapeProblem) and opt["name"] == "sgd":
        st = stability(session)
        if st.level == "warning":
            parts.append(st.message)
            suggestions += st.suggestions
    suggestions.append((f"Divide the learning rate by 10 (to {lr / 10:.3g})",
                        {"optimizer": {"lr": lr / 10}}))
    if session.problem.has_layers:
        if train["clip_norm"] == 0:
            suggestions.append(("Clip the gradient norm at 1", {"training": {"clip_norm": 1.0}}))
        if net.get("init") == "normal" and net.get("init_std", 0) > 0.5:
            rectified = {"relu", "leaky_relu", "elu"} & set(session.model.activations)
            better = "he_normal" if rectified else "xavier_normal"
            parts.append(f"The initial weights (std {net['init_std']:.3g}) are large for this network.")
            suggestions.append((f"Use {better} init", {"network": {"init": better}}))
    return Finding("halt", "warning", " ".join(parts), session.step, {"step": session.step}, suggestions)


def diagnose(session, lam_max: float | None = None) -> list[Finding]:
    """Every applicable diagnostic, warnings first (the halt first of all)."""
    found = [gradient_flow(session), dead_relus(session), saturation(session), stability(session, lam_max)]
    halt = halt_advice(session)
    found = ([halt] if halt else []) + [f for f in found if f.level != "n/a"]
    return sorted(found, key=lambda f: (f.key != "halt", f.level != "warning"))
