"""Ready-made configs, shipped as package data beside this module (one of them the app's default).

They are read with importlib.resources, so a wheel, `pipx` or a zipped install finds them as an
editable checkout does.
"""
from __future__ import annotations

from functools import cache
from importlib import resources

from ..core import config

DEFAULT_PRESET = "spiral_tanh"

# The Presets menu: where to start, the stories in teaching order (each problem before its fix),
# and the landscapes. A preset file missing here is listed under "More" (tests keep this complete).
START_HERE = ("spiral_tanh", "xor_relu", "circles_relu", "blobs3_softmax", "spiral_four_arms", "sine_regression")
STORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("The learning rate", ("lr_limit_below", "lr_limit_above")),
    ("Batch size and noise", ("noise_batch_full", "noise_batch_mini", "noise_batch_single")),
    ("Momentum in a ravine", ("ravine_gd_plain", "ravine_momentum")),
    ("Saddle points", ("saddle_sgd", "saddle_adam")),
    ("Vanishing gradients", ("vanish_sigmoid_small_init", "vanish_fix_he_relu")),
    ("Exploding gradients", ("explode_large_init", "explode_fix_clipping")),
    ("Saturated activations", ("saturate_tanh_large_init", "saturate_fix_batchnorm")),
    ("Loss functions", ("loss_bce", "loss_mse", "loss_hinge")),
    ("Regularisation", ("reg_l1", "reg_l2")),
    ("Learning-rate schedules", ("schedule_constant", "schedule_step", "schedule_cosine")),
    ("Second-order methods", ("rosenbrock_gd", "rosenbrock_newton")),
    ("Input features", ("features_circles_plain", "features_circles_squares")),
    ("Early stopping", ("stop_early_overfit",)),
)
LANDSCAPES = ("rosenbrock_adam",)


def menu_groups() -> list[tuple[str, list[str]]]:
    """(heading, preset names) in menu order; every preset appears once."""
    groups: list[tuple[str, list[str]]] = [("Start here", list(START_HERE))]
    groups += [(f"Stories: {topic}", list(names)) for topic, names in STORIES]
    groups.append(("Landscapes", list(LANDSCAPES)))
    listed = {n for _, names in groups for n in names}
    more = [n for n in preset_names() if n not in listed]
    if more:
        groups.append(("More", more))
    return [(heading, [n for n in names if n in preset_names()]) for heading, names in groups]


def _files():
    return resources.files(__name__)


@cache
def preset_names() -> tuple[str, ...]:
    """Every preset's name (the file name without .toml), sorted."""
    return tuple(sorted(f.name.removesuffix(".toml") for f in _files().iterdir()
                        if f.is_file() and f.name.endswith(".toml")))


def preset_text(name: str) -> str:
    """The TOML text of preset `name` (ConfigError naming the choices if there is none)."""
    if name not in preset_names():
        raise config.ConfigError(f"unknown preset '{name}'; choose one of: {', '.join(preset_names())}")
    return (_files() / f"{name}.toml").read_text(encoding="utf-8")


def load_preset(name: str) -> dict:
    """The resolved config of preset `name`."""
    return config.loads(preset_text(name), source=f"preset '{name}'")

