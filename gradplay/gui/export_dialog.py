"""The Export dialog: where to export and, as the export needs them, picture size, GIF pace and formats."""
from __future__ import annotations

import re
from pathlib import Path

from PySide6 import QtWidgets

from . import exporters, gif


def with_filter_suffix(path: Path, file_filter: str) -> Path:
    """`path` ending in the suffix a file dialog filter names ("PNG image (*.png)"): added if missing."""
    m = re.search(r"\*(\.\w+)", file_filter or "")
    if m and path.suffix.lower() != m.group(1):
        return path.with_name(path.name + m.group(1))
    return path


class ExportDialog(QtWidgets.QDialog):
    """Where to export and, as the export needs them, the picture size, GIF pace and formats."""

    def __init__(self, parent: QtWidgets.QWidget, title: str, path: Path, file_filter: str = "",
                 folder: bool = False, pixels: tuple[int, int] | None = None, scale: float | None = None,
                 steps: int | None = None, formats: tuple[str, ...] | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.folder, self.file_filter = folder, file_filter
        form = QtWidgets.QFormLayout(self)
        self.path_edit = QtWidgets.QLineEdit(str(path))
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("Folder" if folder else "File", row)

        self.formats: dict[str, QtWidgets.QCheckBox] = {}
        if formats:
            labels = {"png": "PNG of each panel", "svg": "SVG of each panel", "csv": "history CSV",
                      "gif": "landscape GIF", "py": "PyTorch script", "summary": "summary image"}
            grid = QtWidgets.QGridLayout()
            for i, f in enumerate(formats):
                box = QtWidgets.QCheckBox(labels.get(f, f))
                box.setChecked(True)
                self.formats[f] = box
                grid.addWidget(box, i // 3, i % 3)
            form.addRow("Formats", grid)

        self.width_spin = self.height_spin = None
        if pixels is not None:
            self.width_spin, self.height_spin = _pixels_spin(pixels[0]), _pixels_spin(pixels[1])
            size = QtWidgets.QHBoxLayout()
            size.addWidget(self.width_spin)
            size.addWidget(QtWidgets.QLabel("×"))
            size.addWidget(self.height_spin)
            size.addWidget(QtWidgets.QLabel("pixels"))
            size.addStretch(1)
            form.addRow("Size", size)
        self.scale_spin = None
        if scale is not None:
            self.scale_spin = QtWidgets.QDoubleSpinBox(decimals=2, minimum=0.5, maximum=6.0, singleStep=0.5)
            self.scale_spin.setValue(scale)
            self.scale_spin.setSuffix(" ×")
            self.scale_spin.setToolTip("How large text and lines are drawn: 2 × is as sharp as a high-DPI "
                                       "screen. With a size, the panel is laid out at size / scale.")
            form.addRow("Text scale", self.scale_spin)
            if pixels is not None:  # a new scale keeps the layout and changes the pixel count
                self._last_scale = scale
                self.scale_spin.valueChanged.connect(self._rescale)
        self.every_spin = None
        if steps is not None:
            self.every_spin = QtWidgets.QSpinBox(minimum=1, maximum=max(1, steps))
            self.every_spin.setValue(gif.default_every(steps))
            self.frames_label = QtWidgets.QLabel()
            self.every_spin.valueChanged.connect(lambda k: self.frames_label.setText(
                f"{len(gif.frame_steps(steps, k))} frames"))
            self.every_spin.valueChanged.emit(self.every_spin.value())
            pace = QtWidgets.QHBoxLayout()
            pace.addWidget(self.every_spin)
            pace.addWidget(self.frames_label)
            pace.addStretch(1)
            form.addRow("GIF: steps per frame", pace)

        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(520)

    def _rescale(self, scale: float) -> None:
        ratio = scale / self._last_scale
        self._last_scale = scale
        for spin in (self.width_spin, self.height_spin):
            spin.setValue(round(spin.value() * ratio))

    def _browse(self) -> None:
        if self.folder:
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Export into folder", self.path_edit.text())
        else:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, self.windowTitle(), self.path_edit.text(),
                                                            self.file_filter)
        if path:
            self.path_edit.setText(path)

    def ask(self) -> bool:
        """Show the dialog; True if the user chose Export."""
        return self.exec() == QtWidgets.QDialog.DialogCode.Accepted

    def values(self) -> dict:
        """path (with the filter's suffix added), pixels, scale, every, formats: as asked."""
        path = Path(self.path_edit.text()).expanduser()
        if not self.folder:
            path = with_filter_suffix(path, self.file_filter)
        return {
            "path": path,
            "pixels": (self.width_spin.value(), self.height_spin.value()) if self.width_spin else None,
            "scale": self.scale_spin.value() if self.scale_spin else exporters.DEFAULT_SCALE,
            "every": self.every_spin.value() if self.every_spin else None,
            "formats": [f for f, box in self.formats.items() if box.isChecked()],
        }


def _pixels_spin(value: int) -> QtWidgets.QSpinBox:
    spin = QtWidgets.QSpinBox(minimum=16, maximum=16384, singleStep=100)
    spin.setValue(value)
    return spin
