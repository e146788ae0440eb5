"""Pieces of the setup panel: the preset header, the schedule form, section boxes, the error line."""
from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.config import SCHEDULE_PARAMS, SCHEDULE_RANGES
from .numbers import SciSpinBox, compact_combo, guard_wheel, int_spin, unit_spin

SCHEDULE_HELP = {
    "constant": "The learning rate stays as set.",
    "step": "Multiply the rate by γ every step_size steps (StepLR).",
    "exponential": "Multiply the rate by γ after every step (ExponentialLR).",
    "cosine": "Follow half a cosine from lr down to eta_min over t_max steps, then back up (CosineAnnealingLR).",
}


def is_dark(palette: QtGui.QPalette) -> bool:
    return palette.color(QtGui.QPalette.ColorRole.Window).lightness() < 128


def error_colors(palette: QtGui.QPalette) -> tuple[str, str]:
    """(text, background) of an error line that reads in the light and the dark theme."""
    return ("#ffb4ab", "#5c1f1b") if is_dark(palette) else ("#a4161a", "#fde7e7")


def color_error_label(lab: QtWidgets.QLabel) -> None:
    """(Re)colour the error line for the current light or dark palette."""
    fg, bg = error_colors(QtWidgets.QApplication.palette())
    lab.setStyleSheet(f"QLabel#setupError {{ color: {fg}; background: {bg}; padding: 6px 8px; }}")


def error_label() -> QtWidgets.QLabel:
    """The red line that shows a config error (hidden when there is none)."""
    lab = QtWidgets.QLabel(wordWrap=True)
    lab.setObjectName("setupError")
    color_error_label(lab)
    lab.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.hide()
    return lab


def group(title: str, column: QtWidgets.QVBoxLayout) -> tuple[QtWidgets.QGroupBox, QtWidgets.QFormLayout]:
    """A titled section with a compact two-column form, appended to `column`."""
    box = QtWidgets.QGroupBox(title)
    form = QtWidgets.QFormLayout(box)
    _compact(form)
    column.addWidget(box)
    return box, form


class Collapsible(QtWidgets.QGroupBox):
    """A section that folds to its title line (an arrow button); `form` holds its rows and
    `set_summary` shows a line beside the title, so that a folded section still says what it holds."""

    def __init__(self, title: str, expanded: bool = False, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(4, 2, 4, 4)
        col.setSpacing(2)
        self.toggle = QtWidgets.QToolButton(text=title, checkable=True, autoRaise=True)
        self.toggle.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space stays "play"
        f = self.toggle.font()
        f.setBold(True)
        self.toggle.setFont(f)
        # the summary wraps: on one line with the title it made the panel 341 px wide at least
        self.summary = QtWidgets.QLabel(wordWrap=True)
        self.summary.setProperty("muted", True)
        head = QtWidgets.QHBoxLayout()
        head.setSpacing(6)
        head.addWidget(self.toggle)
        head.addWidget(self.summary, 1)
        col.addLayout(head)
        self.body = QtWidgets.QWidget()
        self.form = QtWidgets.QFormLayout(self.body)
        _compact(self.form)
        col.addWidget(self.body)
        self.toggle.toggled.connect(self._show)
        self.toggle.setChecked(expanded)
        self._show(expanded)
        self.set_summary("")

    def _show(self, expanded: bool) -> None:
        self.toggle.setArrowType(QtCore.Qt.ArrowType.DownArrow if expanded else QtCore.Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)

    def set_summary(self, text: str) -> None:
        self.summary.setText(text)


def _compact(form: QtWidgets.QFormLayout) -> None:
    form.setContentsMargins(8, 6, 8, 8)
    form.setHorizontalSpacing(8)
    form.setVerticalSpacing(5)
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    # A row too long for the panel puts its label above its field: at 1280x720 the panel is 250 px
    # wide, and rows kept on one line made its body at least 282 px, clipped on the right.
    form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)


class Header(QtWidgets.QWidget):
    """The preset's title, description and what to try, at the top of the panel."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(3)
        self.title = QtWidgets.QLabel(wordWrap=True)
        f = self.title.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.title.setFont(f)
        self.description = QtWidgets.QLabel(wordWrap=True)
        self.try_ = QtWidgets.QLabel(wordWrap=True)
        fi = self.try_.font()
        fi.setItalic(True)
        self.try_.setFont(fi)
        for w in (self.title, self.description, self.try_):
            w.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # a preset or session's text, never markup
            col.addWidget(w)

    def show_meta(self, meta: dict[str, str], title: str = "", edits: str = "") -> None:
        """The run's title ("based on TITLE" once edited; `edits` lists the changes on hover)."""
        self.title.setText(title or meta.get("title") or "Custom run")
        self.title.setToolTip(edits)
        self.description.setText(meta.get("description", ""))
        self.description.setVisible(bool(meta.get("description")))
        self.try_.setText(f"Try: {meta['try']}" if meta.get("try") else "")
        self.try_.setVisible(bool(meta.get("try")))


class ScheduleForm(QtWidgets.QWidget):
    """Learning-rate schedule: its name and exactly its parameters (from SCHEDULE_PARAMS)."""

    changed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._form = QtWidgets.QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapLongRows)
        self.name = compact_combo(list(SCHEDULE_PARAMS))
        self.name.setToolTip("How the learning rate changes over the steps (stepped once per update)")
        self._form.addRow("lr schedule", self.name)
        self._fields: dict[str, QtWidgets.QAbstractSpinBox] = {}
        self._shown = ""
        self.name.currentIndexChanged.connect(self._name_changed)

    def _name_changed(self) -> None:
        self._build(self.name.currentText(), SCHEDULE_PARAMS[self.name.currentText()])
        self.changed.emit()

    def _build(self, name: str, values: dict[str, Any]) -> None:
        while self._form.rowCount() > 1:
            self._form.removeRow(1)
        self._fields.clear()
        self._shown = name
        self.name.setToolTip(SCHEDULE_HELP.get(name, ""))
        for key, default in SCHEDULE_PARAMS[name].items():
            v = values.get(key, default)
            lo, hi = SCHEDULE_RANGES[key]  # exactly the config's ranges
            if key in ("step_size", "t_max"):
                w = int_spin(lo, hi, int(v))
            elif key == "gamma":
                w = unit_spin(lo, hi, float(v), 0.001, 5)
            else:
                w = SciSpinBox(lo, hi, float(v))
            guard_wheel(w)
            w.setToolTip(f"{key} (default {default})")
            w.valueChanged.connect(lambda *_: self.changed.emit())
            self._fields[key] = w
            self._form.addRow(key.replace("_", " "), w)

    def load(self, section: dict[str, Any]) -> None:
        """Show a resolved [schedule] section without emitting `changed`."""
        was = self.name.blockSignals(True)
        self.name.setCurrentText(section["name"])
        self.name.blockSignals(was)
        if section["name"] != self._shown:
            self._build(section["name"], section)
        for key, w in self._fields.items():
            was = w.blockSignals(True)
            w.setValue(section[key])
            w.blockSignals(was)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name.currentText()}
        out.update({k: w.value() for k, w in self._fields.items()})
        return out
