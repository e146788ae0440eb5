"""Light or dark: the colours plots take from the Qt palette, and recolouring after a switch.

Plot colours follow the Qt palette so panels read well in light and dark themes and in exported images.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets


@dataclass(frozen=True)
class Theme:
    """The colours plots take from the light or dark palette."""

    dark: bool
    bg: str  # plot background
    fg: str  # axes, text, neutral curves
    muted: str  # secondary curves (noisy batch loss), grid


def theme(palette: QtGui.QPalette | None = None) -> Theme:
    """Light or dark, read from the window colour of the (application) palette."""
    if palette is None:
        app = QtWidgets.QApplication.instance()
        palette = app.palette() if app is not None else QtGui.QPalette()
    dark = palette.color(QtGui.QPalette.ColorRole.Window).lightness() < 128
    if dark:
        return Theme(True, "#1e1f22", "#d8dadd", "#7d8087")
    return Theme(False, "#ffffff", "#303236", "#a4a7ad")


def apply_pg_theme(th: Theme | None = None) -> Theme:
    """Make pyqtgraph's defaults (background, axes) follow the theme for items created from now on."""
    th = th or theme()
    pg.setConfigOptions(background=th.bg, foreground=th.fg, antialias=True)
    return th


def faint(color: QtGui.QColor | str, alpha: float, th: Theme) -> QtGui.QColor:
    """The opaque colour that `color` at opacity `alpha` (0..1) shows over the plot background.

    For the faint raw curves behind an average and the weak edges of the network diagram: Qt's
    raster engine strokes a translucent antialiased pen ~10× slower than an opaque one (a noisy
    1,000-point curve 1 px wide: 7.8 ms at alpha 90 against 0.7 ms opaque; 88 edges 3 px wide:
    4.6 ms against 0.6 ms), and these were most of a frame's painting. Where such lines cross
    each other, the one drawn last covers the other instead of mixing with it.
    """
    c, bg = pg.mkColor(color), pg.mkColor(th.bg)
    a = min(1.0, max(0.0, alpha * c.alphaF()))
    return QtGui.QColor.fromRgbF(*(b + (f - b) * a for f, b in ((c.redF(), bg.redF()), (c.greenF(), bg.greenF()),
                                                                 (c.blueF(), bg.blueF()))))


def restyle(root: QtWidgets.QWidget, th: Theme | None = None) -> None:
    """Recolour the existing plots under `root` after a theme switch (backgrounds, axes, titles)."""
    th = apply_pg_theme(th)
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(th.bg)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(th.fg)
                item.setTextPen(th.fg)
                if item.label is not None:
                    item.label.setDefaultTextColor(pg.mkColor(th.fg))
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextColor(th.fg)
                item.setBrush(legend_brush(th))
            elif isinstance(item, pg.LabelItem) and item.text:  # plot titles
                item.setText(item.text, color=th.fg)


def theme_changed(widget: QtWidgets.QWidget, event: QtCore.QEvent) -> Theme | None:
    """The new theme if `event` switched light <-> dark for a panel holding `widget.th`, else None.

    Recolours the panel's existing plots; the panel then re-pens its own theme-coloured items."""
    if event.type() != QtCore.QEvent.Type.PaletteChange:
        return None
    th = theme()
    if th == getattr(widget, "th", None):
        return None
    widget.th = th
    restyle(widget, th)
    return th


def legend_brush(th: Theme) -> QtGui.QBrush:
    c = pg.mkColor(th.bg)
    c.setAlpha(200)
    return pg.mkBrush(c)
