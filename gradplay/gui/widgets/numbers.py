"""Number fields for hyperparameters that span many orders of magnitude.

A learning rate may be 1e-5 or 3; QDoubleSpinBox rounds to a fixed number of decimals and steps
linearly, so `SciSpinBox` shows 3-4 significant digits, accepts scientific notation (1e-12) and
steps through the 1-2-5 sequence with the arrow keys and the mouse wheel.
"""
from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

_NICE = (1.0, 2.0, 5.0)


def nice_step(value: float, up: bool, lo: float) -> float:
    """The next value of the 1-2-5 sequence above (or below) `value`; 0 below the smallest one."""
    if value <= 0:
        return max(lo, 1e-4) if up else 0.0
    e = math.floor(math.log10(value))
    cands = sorted(m * 10.0 ** k for k in (e - 1, e, e + 1) for m in _NICE)
    if up:
        return next(c for c in cands if c > value * (1 + 1e-9))
    below = [c for c in cands if c < value * (1 - 1e-9)]
    return below[-1] if below else 0.0


def fmt(value: float, digits: int = 4) -> str:
    """Compact text for a number: 0.001, 3e-08, 1000 (no trailing zeros)."""
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{int(exp)}"
    return text


def fmt_exact(value: float, digits: int = 4) -> str:
    """Like `fmt`, with as many more digits as it takes to read back as exactly `value`.

    A field must show the value it holds: if 0.0123456 showed as 0.01235, pressing Enter in the
    untouched field would quietly change the run (and a network setting would restart it).
    """
    for d in range(digits, 18):
        text = fmt(value, d)
        if float(text) == value:
            return text
    return repr(value)


def _shrinkable(w: QtWidgets.QAbstractSpinBox) -> QtWidgets.QAbstractSpinBox:
    """Spin boxes refuse to be narrower than their size hint (policy Minimum); in a narrow dock two
    side by side must be able to shrink."""
    w.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Fixed)
    return w


class SciSpinBox(QtWidgets.QDoubleSpinBox):
    """A float field with a range [lo, hi] that reads and writes scientific notation.

    `special` names the value 0 (e.g. "off" for clipping), shown instead of "0".
    """

    def __init__(self, lo: float = 0.0, hi: float = 1e6, value: float = 0.0, special: str = "",
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        _shrinkable(self)
        # QDoubleSpinBox rounds every value it stores to `decimals` places; Qt's maximum (323) keeps
        # any double from about 1e-300 up exactly (15 would turn 0.4325024112568828 into ...883).
        self.setDecimals(323)
        self.setRange(lo, hi)
        self.setKeyboardTracking(False)  # apply on Enter/focus-out, not on every keystroke
        if special and lo == 0:
            self.setSpecialValueText(special)
        self.setValue(value)
        self.setToolTip(f"{fmt(lo)} … {fmt(hi)}; scientific notation like 1e-3 is accepted")

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        # QDoubleSpinBox sizes itself for the maximum at 15 decimals: far too wide for a form.
        base = super().sizeHint()
        return QtCore.QSize(self.fontMetrics().horizontalAdvance("0.0001e-12") + 36, base.height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802
        return QtCore.QSize(self.fontMetrics().horizontalAdvance("1e-12") + 30, super().minimumSizeHint().height())

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return fmt_exact(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: N802
        t = text.strip()
        if self.specialValueText() and t == self.specialValueText():
            return QtGui.QValidator.State.Acceptable, text, pos
        try:
            v = float(t)
        except ValueError:
            # "1e", "-", "0." are on their way to a number
            ok = all(c in "0123456789.eE+-" for c in t)
            state = QtGui.QValidator.State.Intermediate if ok else QtGui.QValidator.State.Invalid
            return state, text, pos
        if self.minimum() <= v <= self.maximum() and math.isfinite(v):
            return QtGui.QValidator.State.Acceptable, text, pos
        return QtGui.QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        v = self.value()
        for _ in range(abs(steps)):
            v = nice_step(v, steps > 0, self.minimum())
        self.setValue(min(self.maximum(), max(self.minimum(), v)))


class UnitSpinBox(SciSpinBox):
    """A float field with linear arrow steps (momentum, noise, a start coordinate).

    It keeps every digit of the value it is given, where a QDoubleSpinBox rounds to its decimals: a
    config's momentum 0.12345 or beta 0.99999 must come back unchanged when the form is read again.
    """

    def stepBy(self, steps: int) -> None:  # noqa: N802
        QtWidgets.QDoubleSpinBox.stepBy(self, steps)


def unit_spin(lo: float = 0.0, hi: float = 1.0, value: float = 0.0, step: float = 0.05,
              decimals: int = 4) -> QtWidgets.QDoubleSpinBox:
    """A linear float field for values like momentum or noise, with limited range.

    `decimals` is the precision the arrows step at; values with more digits are kept exactly.
    """
    w = UnitSpinBox(lo, hi, value)
    w.setSingleStep(round(step, decimals))
    w.setToolTip(f"{fmt(lo)} … {fmt(hi)}")
    return w


def int_spin(lo: int, hi: int, value: int) -> QtWidgets.QSpinBox:
    w = _shrinkable(QtWidgets.QSpinBox())
    w.setRange(lo, hi)
    w.setKeyboardTracking(False)
    w.setValue(value)
    return w


class WideIntSpinBox(QtWidgets.QDoubleSpinBox):
    """An integer field beyond a QSpinBox's 32 bits (a step limit goes up to 10¹²): a double holds
    every integer up to 2⁵³ exactly, so `int(w.value())` is the number shown."""

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt override)
        # sized for 10¹² it kept a form 127 px wide at least; a longer number scrolls in its field
        return QtCore.QSize(self.fontMetrics().horizontalAdvance("1000000") + 30, super().minimumSizeHint().height())


def wide_int_spin(lo: int, hi: int, value: int) -> QtWidgets.QDoubleSpinBox:
    """A `WideIntSpinBox` over [lo, hi]."""
    w = _shrinkable(WideIntSpinBox())
    w.setDecimals(0)
    w.setRange(lo, hi)
    w.setKeyboardTracking(False)
    w.setValue(value)
    return w


class _WheelGuard(QtCore.QObject):
    """Passes wheel events of unfocused fields on to the scroll area instead of changing the value."""

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Wheel and isinstance(obj, QtWidgets.QWidget) \
                and not obj.hasFocus():
            event.ignore()
            return True
        return False


_guard: _WheelGuard | None = None


def guard_wheel(w: QtWidgets.QWidget) -> QtWidgets.QWidget:
    """Scrolling the setup panel must not change values under the pointer by accident."""
    global _guard
    if _guard is None:
        _guard = _WheelGuard()
    w.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
    w.installEventFilter(_guard)
    return w


def compact_combo(items: list[str] | None = None) -> QtWidgets.QComboBox:
    """A combo that may be narrower than its longest item (the setup panel must fit ~280 px)."""
    w = QtWidgets.QComboBox()
    w.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    w.setMinimumContentsLength(6)
    if items:
        w.addItems(items)
    return guard_wheel(w)
