"""The optimizer's hyperparameter form, built from `OPTIMIZERS[name].defaults`.

The form shows exactly the hyperparameters the chosen optimizer takes, each with torch's default in
its tooltip, so switching from Adam to SGD makes momentum and Nesterov appear and betas vanish.
The widget kind follows the value's type and meaning: rates that span decades get a scientific field
with 1-2-5 steps, coefficients in [0, 1) a linear field, flags a checkbox.
"""
from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from ...core import config as config_mod
from ...core import optimizers
from .numbers import SciSpinBox, compact_combo, fmt, guard_wheel, int_spin, unit_spin

# name -> (label, help). Unknown names still get a field, labelled by their own name.
LABELS: dict[str, tuple[str, str]] = {
    "lr": ("learning rate", "Step size γ: how far each update moves along the (adapted) gradient."),
    "momentum": ("momentum", "Fraction of the previous update carried into this one (heavy ball)."),
    "dampening": ("dampening", "Scales down the new gradient inside the momentum buffer."),
    "nesterov": ("Nesterov", "Look-ahead momentum: the gradient step is taken from where momentum leads."),
    "weight_decay": ("weight decay", "Pulls every parameter towards 0 at each step."),
    "betas": ("β₁, β₂", "Decay rates of the running mean of gradients and of squared gradients."),
    "eps": ("ε", "Added to the denominator so that the adaptive step never divides by zero."),
    "amsgrad": ("AMSGrad", "Use the running maximum of the squared-gradient average (never grows the step)."),
    "alpha": ("α (smoothing)", "Decay rate of the running average of squared gradients."),
    "centered": ("centered", "Divide by the estimated variance of the gradient instead of its raw second moment."),
    "rho": ("ρ", "Decay rate of the running averages of squared gradients and squared updates."),
    "lr_decay": ("lr decay", "The step shrinks as lr / (1 + (t−1)·lr_decay)."),
    "initial_accumulator_value": ("initial accumulator", "Starting value of the sum of squared gradients."),
    "damping": ("damping", "Added to the Hessian's diagonal (λ·I) so that the Newton step stays finite."),
    "max_iter": ("iterations per step", "Inner L-BFGS iterations per optimizer step."),
    "history_size": ("history size", "How many past (step, gradient change) pairs approximate the curvature."),
    "tolerance_grad": ("gradient tolerance", "Stop the inner loop when the gradient is this small."),
    "tolerance_change": ("change tolerance", "Stop the inner loop when the loss or the step change this little."),
    "line_search_fn": ("line search", "strong_wolfe picks each step length so the loss falls enough."),
    "maximize": ("maximize", "Climb the loss instead of descending it."),
}
UNIT = ("momentum", "dampening", "alpha", "rho")        # coefficients in [0, 1]: linear fields
# Every field spans exactly config.HYPER_RANGES, so any config that resolves is shown unclipped.


LINE_SEARCHES = ("none", "strong_wolfe")


class HyperForm(QtWidgets.QWidget):
    """Fields for one optimizer's hyperparameters; `changed` fires when the user commits a value."""

    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.name = ""
        self._fields: dict[str, Any] = {}   # key -> getter/setter pair holder
        self._extra: dict[str, Any] = {}    # keys the form has no field for (kept as they are)
        self._widgets: dict[str, QtWidgets.QWidget] = {}
        self._form = QtWidgets.QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)  # see setup_parts.group

    # ----------------------------------------------------------------- building
    def set_optimizer(self, name: str, values: dict[str, Any]) -> None:
        """Show `name`'s hyperparameters with `values` (a resolved [optimizer] section)."""
        if name != self.name:
            self._build(name)
        self._extra = {}
        defaults = optimizers.OPTIMIZERS[name].defaults
        for k, v in values.items():
            # None defaults (L-BFGS max_eval) are derived from other fields: re-derive after edits
            if k == "name" or (k in defaults and defaults[k] is None and k not in self._fields):
                continue
            if k in self._fields:
                self._fields[k][1](v)
            else:
                self._extra[k] = v

    def _build(self, name: str) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self._fields.clear()
        self._widgets.clear()
        self.name = name
        for key, default in optimizers.OPTIMIZERS[name].defaults.items():
            made = self._make_field(key, default)
            if made is None:
                continue  # e.g. L-BFGS max_eval (None: derived from max_iter)
            widget, getter, setter = made
            label, help_ = {**LABELS, **optimizers.OPTIMIZERS[name].labels}.get(key, (key.replace("_", " "), ""))
            tip = f"{key} — {help_}\ntorch default: {_show(default)}".replace(" — \n", "\n")
            widget.setToolTip(tip)
            lab = QtWidgets.QLabel(label)
            lab.setToolTip(tip)
            self._form.addRow(lab, widget)
            self._fields[key] = (getter, setter)
            self._widgets[key] = widget

    def _range(self, key: str) -> tuple[float, float]:
        return config_mod.hyper_range(self.name, key)

    def _make_field(self, key: str, default: Any):
        emit = self.changed.emit
        if key == "line_search_fn":
            w = compact_combo(list(LINE_SEARCHES))
            w.currentIndexChanged.connect(lambda *_: emit())
            return w, lambda: w.currentText(), lambda v: _quiet(w, w.setCurrentText, v or "none")
        if default is None:
            return None
        if isinstance(default, bool):
            w = QtWidgets.QCheckBox()
            w.toggled.connect(lambda *_: emit())
            return w, w.isChecked, lambda v: _quiet(w, w.setChecked, bool(v))
        if key in config_mod.INTEGER_HYPER:
            w = guard_wheel(int_spin(*(int(b) for b in self._range(key)), int(default)))
            w.valueChanged.connect(lambda *_: emit())
            return w, w.value, lambda v: _quiet(w, w.setValue, int(v))
        if isinstance(default, (tuple, list)):  # betas: one field per coefficient
            box = QtWidgets.QWidget()
            row = QtWidgets.QHBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            lo, hi = self._range(key)
            # coefficients in [0, 1) (betas) linear; others (Rprop's etas and step sizes) scientific
            spins = [guard_wheel(unit_spin(lo, hi, float(d), 0.01, 4) if hi <= 1 else SciSpinBox(lo, hi, float(d)))
                     for d in default]
            for s in spins:
                s.valueChanged.connect(lambda *_: emit())
                row.addWidget(s)

            def set_all(v, spins=spins):
                for s, x in zip(spins, v):
                    _quiet(s, s.setValue, float(x))
            return box, lambda: [s.value() for s in spins], set_all
        if key in UNIT:
            w = guard_wheel(unit_spin(*self._range(key), float(default), 0.05, 4))
        else:
            w = guard_wheel(SciSpinBox(*self._range(key), float(default)))
        w.valueChanged.connect(lambda *_: emit())
        return w, w.value, lambda v: _quiet(w, w.setValue, float(v))

    # ----------------------------------------------------------------- reading
    def values(self) -> dict[str, Any]:
        """The [optimizer] section the form shows, including its name."""
        out: dict[str, Any] = {"name": self.name}
        out.update(self._extra)
        for k, (getter, _) in self._fields.items():
            out[k] = getter()
        return out

    def widget_for(self, key: str) -> QtWidgets.QWidget | None:
        """The field of one hyperparameter (tests and focus handling)."""
        return self._widgets.get(key)


def _quiet(w: QtWidgets.QWidget, setter, value) -> None:
    """Set a value without emitting: loading a config is not a user edit."""
    was = w.blockSignals(True)
    try:
        setter(value)
    finally:
        w.blockSignals(was)


def _show(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_show(x) for x in v) + ")"
    if isinstance(v, float):
        return fmt(v)
    return str(v)
