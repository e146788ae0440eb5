"""Classroom mode in the window: View → Classroom mode… and the controls it hides.

The names and their checks live in core/classroom.py; what is hidden is the `[classroom]` section of
the session's config, so it travels with Save, Copy setup and presets. The dialog writes it through
`Controller.apply_config` like every other edit (Session.set_config keeps the run and the optimizer's
state: classroom mode is not a training setting), and the window calls `Classroom.apply` whenever
the config or the layout changes, so a preset, Open or Paste with `[classroom]` hides the same
controls and one without it brings them back.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ..core import classroom

# core name -> dock name, for the deep panels
DOCKS = {name: "weightspace" if name == "weight_space" else name for name in classroom.PANELS}
UNLOCK_QUESTION = ("This exercise was locked by the teacher. Unlock it to change what is hidden, or to "
                   "show everything?")


def _form_of(widget: QtWidgets.QWidget) -> QtWidgets.QFormLayout:
    """The form whose row `widget` is (Setup's groups: the group box's own layout)."""
    layout = widget.parentWidget().layout()
    assert isinstance(layout, QtWidgets.QFormLayout) and layout.indexOf(widget) >= 0, widget
    return layout


class ClassroomDialog(QtWidgets.QDialog):
    """A "hide from students" box per name of core.classroom.HIDEABLE, and `locked`.

    A locked section opens with its boxes greyed until "Unlock (teacher)…" is confirmed. "Show
    everything" clears every box and the lock, and accepts. `section()` is what the dialog says."""

    def __init__(self, section: dict, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Classroom mode")
        col = QtWidgets.QVBoxLayout(self)
        intro = QtWidgets.QLabel("Tick what students should not see. It is saved with the setup (Save, "
                                 "Copy setup), so the exercise you hand out opens the same way.",
                                 wordWrap=True)
        col.addWidget(intro)
        self.boxes: dict[str, QtWidgets.QCheckBox] = {}
        columns = QtWidgets.QHBoxLayout()
        left, right = QtWidgets.QVBoxLayout(), QtWidgets.QVBoxLayout()
        for layout, heading, names in ((left, "Setup panel", classroom.SETUP), (right, "Panels", classroom.PANELS),
                                       (right, "Menus and the map", classroom.OTHER)):
            group = QtWidgets.QGroupBox(heading)
            rows = QtWidgets.QVBoxLayout(group)
            for name, text in names.items():
                box = QtWidgets.QCheckBox(text[0].upper() + text[1:])
                box.setToolTip(f"Hide it from students (saved as \"{name}\" in [classroom] hide)")
                box.setChecked(name in section["hide"])
                rows.addWidget(box)
                self.boxes[name] = box
            layout.addWidget(group)
        for layout in (left, right):
            layout.addStretch(1)
            columns.addLayout(layout)
        col.addLayout(columns)
        self.locked = QtWidgets.QCheckBox("Locked: turning it off or changing it asks for the teacher's "
                                          "confirmation")
        self.locked.setChecked(section["locked"])
        col.addWidget(self.locked)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.show_all = buttons.addButton("Show everything", QtWidgets.QDialogButtonBox.ButtonRole.ResetRole)
        self.show_all.setToolTip("Turn classroom mode off: every control comes back")
        self.unlock_button = buttons.addButton("Unlock (teacher)…", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        self.show_all.clicked.connect(self._show_everything)
        self.unlock_button.clicked.connect(self.unlock)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)
        self._set_editable(not section["locked"])

    def _set_editable(self, on: bool) -> None:
        for w in (*self.boxes.values(), self.locked, self.show_all, self.ok_button):
            w.setEnabled(on)
        self.unlock_button.setVisible(not on)

    def unlock(self) -> bool:
        """Ask for the teacher's confirmation; True (and the boxes editable) when given."""
        answer = QtWidgets.QMessageBox.question(self, "Unlock classroom mode", UNLOCK_QUESTION)
        if answer != QtWidgets.QMessageBox.StandardButton.Yes:
            return False
        self._set_editable(True)
        return True

    def _show_everything(self) -> None:
        for box in self.boxes.values():
            box.setChecked(False)
        self.locked.setChecked(False)
        self.accept()

    def section(self) -> dict:
        """The `[classroom]` section the dialog shows."""
        return {"hide": [n for n, box in self.boxes.items() if box.isChecked()], "locked": self.locked.isChecked()}


class Classroom(QtCore.QObject):
    """Hides and shows a window's controls as its session's `[classroom]` section says, and owns the
    dialog and the "Classroom" mark in the status bar."""

    def __init__(self, window: QtWidgets.QMainWindow):
        super().__init__(window)
        self.window = window
        self.dialog: ClassroomDialog | None = None
        # Docks this mode put away -> whether they were shown then (so turning it off restores the
        # layout's choice: Simple keeps the deep panels closed).
        self._put_away: dict[str, bool] = {}
        self.mark = QtWidgets.QLabel()
        self.mark.setObjectName("classroomMark")
        self.mark.setContentsMargins(6, 0, 6, 0)
        window.statusBar().addPermanentWidget(self.mark)
        self.mark.hide()

    @property
    def section(self) -> dict:
        return classroom.of(self.window.controller.session.config)

    def hides(self, name: str) -> bool:
        """Whether classroom mode hides `name` (a name of core.classroom.HIDEABLE) now."""
        return name in self.section["hide"]

    def hides_dock(self, dock: str) -> bool:
        return any(d == dock and self.hides(n) for n, d in DOCKS.items())

    # ----------------------------------------------------------------- the dialog
    def open_dialog(self) -> ClassroomDialog:
        """View → Classroom mode…: the dialog, window-modal; OK applies it."""
        self.dialog = ClassroomDialog(self.section, self.window)
        self.dialog.accepted.connect(lambda d=self.dialog: self.set_section(d.section()))
        self.dialog.open()
        return self.dialog

    def set_section(self, section: dict) -> None:
        """Make `section` the config's `[classroom]`, through the controller like any edit."""
        session = self.window.controller.session
        cfg = classroom.with_classroom(session.config, section["hide"], section["locked"])
        if cfg != session.config:
            self.window.controller.apply_config(cfg)  # a "config" event: the window calls apply()

    # ----------------------------------------------------------------- hiding
    def apply(self, relayout: bool = False) -> None:
        """Show and hide the controls as the session's config says. `relayout`: the docks were just
        laid out again, so their state now is the one to restore when this mode lets them go."""
        hide = set(self.section["hide"])
        if relayout:
            self._put_away.clear()
        self._setup(hide)
        self._docks(hide)
        w = self.window
        actions = {"task": [w.files.import_action], "presets": [w.presets_menu.menuAction()],
                   "open": [w.files.open_action, w.paste_action]}
        for name, acts in actions.items():
            for act in acts:  # a hidden, disabled action's shortcut does nothing either
                act.setVisible(name not in hide)
                act.setEnabled(name not in hide)
        edit = w.panels["landscape"].edit_points
        if "edit_points" in hide:
            edit.setChecked(False)
        edit.setVisible("edit_points" not in hide)
        self.mark.setText("Classroom (locked)" if self.section["locked"] else "Classroom")
        self.mark.setToolTip(classroom.describe(w.controller.session.config))
        self.mark.setVisible(bool(hide))

    def _setup(self, hide: set[str]) -> None:
        s = self.window.panels["setup"]
        rows = {"pictures": [s.thumbs], "optimizer": [s.optimizer], "hyperparameters": [s.hyper],
                "training": [s.batch_row, s.l1.parentWidget(), s.clip_norm, s.clip_value],
                "schedule": [s.schedule], "seed": [s.seed.parentWidget()]}
        boxes = {"task": s.task_form.parentWidget(), "network": s.network_box, "stop": s.stop_box}
        forms = []
        for name, widgets in rows.items():
            for widget in widgets:
                form = _form_of(widget)
                form.setRowVisible(widget, name not in hide)
                forms.append(form)
        for name, box in boxes.items():
            box.setVisible(name not in hide)
        for form in forms:  # a group whose every row is hidden goes too (no empty titled frame)
            box = form.parentWidget()
            if box not in boxes.values():
                box.setVisible(any(form.isRowVisible(r) for r in range(form.rowCount())))

    def _docks(self, hide: set[str]) -> None:
        for name, dock_name in DOCKS.items():
            dock = self.window.docks[dock_name]
            dock.toggleViewAction().setVisible(name not in hide)  # the View menu and the title bar menu
            if name in hide:
                self._put_away.setdefault(dock_name, not dock.isHidden())
                dock.hide()
            elif self._put_away.pop(dock_name, False):
                dock.show()

    def hides_any_dock(self) -> bool:
        return any(self.hides(n) for n in DOCKS)
