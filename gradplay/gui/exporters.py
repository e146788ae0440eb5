"""Panels rendered offscreen: PNG at any pixel size, SVG with its text kept as text, and "export all".

A panel is exported from a FRESH instance of its class, built offscreen on the same session and laid
out at the asked size, never by grabbing the docked one: the picture then does not depend on the
window's layout, and the same code serves the GUI and `gradplay export` (no screen needed).

Resolution: a picture of W×H pixels at `scale` s is the panel laid out at (W/s)×(H/s) and painted
with a device pixel ratio of s, so text, lines and markers are drawn crisply at s× (vector), not a
small picture blown up. pyqtgraph items are put in export mode while painting, which makes the
scatter plots draw true shapes instead of cached screen-resolution bitmaps.

Each exported panel gets a one-line header (panel name, run title) so a file shared alone still
says what it shows; mouse-hover readouts are hidden.
"""
from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Iterator
from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from ..core.io import atomic_write_bytes
from .docks.base import Panel, SessionHolder

# Logical size (before `scale`) of each panel in an export: enough room for titles and tick labels.
PANEL_SIZES = {"landscape": (720, 640), "loss": (800, 520), "gradients": (900, 600), "weights": (820, 640)}
DEFAULT_SIZE = (800, 600)
DEFAULT_SCALE = 2.0
MIN_SCALE = 0.25
FORMATS = ("png", "svg", "csv", "gif", "py", "summary")  # what `export_all` can write
HEADER_PX = 26

# progress(label, done, total) -> False to cancel
Progress = Callable[[str, int, int], bool]


def export_sizes(name: str) -> tuple[int, int]:
    """The logical size (width, height) a panel is exported at when no size is asked."""
    return PANEL_SIZES.get(name, DEFAULT_SIZE)


def exportable_panels(window) -> dict[str, Panel]:
    """The window's panels that make a picture: not the Setup form, not Weights on a landscape, not
    interactive panels (race, weight space...) whose fresh copy would be empty (`exportable = False`)."""
    layers = window.controller.session.problem.has_layers
    return {name: p for name, p in window.panels.items()
            if name != "setup" and p.exportable
            and not (name == "weights" and not layers)}


def run_title(session) -> str:
    """The run's name for headers and captions: the config's title ("based on TITLE" once edited in
    the app), else task · optimizer."""
    from ..core.timeline import title as timeline_title

    cfg = session.config
    return timeline_title(session.run_config)[0] or f"{cfg['task']['name']} · {cfg['optimizer']['name']}"


# ----------------------------------------------------------------------------- offscreen widgets
def settle(rounds: int = 3) -> None:
    """Let layouts, deferred resizes and posted paints run."""
    app = QtWidgets.QApplication.instance()
    for _ in range(rounds):
        app.processEvents()


class Framed(QtWidgets.QWidget):
    """A panel under a one-line header "Title — run title", as it goes into a picture."""

    def __init__(self, panel: QtWidgets.QWidget, title: str, subtitle: str = "",
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.panel = panel
        self.header = QtWidgets.QLabel(
            f"<b>{html.escape(title)}</b>" + (f"&nbsp;&nbsp;·&nbsp;&nbsp;{html.escape(subtitle)}" if subtitle else ""))
        self.header.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.header.setFixedHeight(HEADER_PX)
        self.header.setStyleSheet("font-size: 11pt; padding-left: 6px;")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.header)
        lay.addWidget(panel, 1)


def _copy_view_state(live: QtWidgets.QWidget | None, fresh: QtWidgets.QWidget) -> None:
    """Carry the user's check boxes (log y, ...) from the docked panel to the exported copy."""
    if live is None:
        return
    for a, b in zip(live.findChildren(QtWidgets.QCheckBox), fresh.findChildren(QtWidgets.QCheckBox)):
        if a.text() == b.text() and a.isChecked() != b.isChecked():
            b.setChecked(a.isChecked())


def _hide_hover(panel: Panel) -> None:
    """Mouse readouts ("hover a cell for its value") mean nothing in a picture."""
    readout = panel.mouse_readout()
    if readout is not None:
        readout.hide()


def fresh_panel(like: Panel, holder: SessionHolder) -> Panel:
    """A new panel of the same class as `like`, on `holder`'s session, with the same view options."""
    panel = type(like)(holder)
    _copy_view_state(like, panel)
    _hide_hover(panel)
    return panel


@contextlib.contextmanager
def offscreen(widget: QtWidgets.QWidget, size: tuple[int, int]) -> Iterator[QtWidgets.QWidget]:
    """Lay `widget` out at `size` (logical pixels) without showing it; closed and freed afterwards."""
    widget.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen)
    widget.resize(*size)
    widget.show()
    settle()
    try:
        yield widget
    finally:
        widget.close()
        widget.deleteLater()


def framed_panel(like: Panel, holder: SessionHolder, subtitle: bool = True) -> Framed:
    """A fresh copy of panel `like` under its header line (panel title and, if `subtitle`, run title)."""
    return Framed(fresh_panel(like, holder), like.title,
                  run_title(holder.session) if subtitle else "")


def minimum_size(widget: QtWidgets.QWidget) -> QtCore.QSize:
    """The smallest size the widget's layout accepts."""
    return widget.minimumSizeHint().expandedTo(widget.minimumSize())


@contextlib.contextmanager
def laid_out(framed: Framed, size: tuple[int, int]) -> Iterator[Framed]:
    """`offscreen`, then the panel redrawn once more at its final size (some fit their view to it)."""
    with offscreen(framed, size):
        framed.panel.reset()
        settle()
        yield framed


@contextlib.contextmanager
def export_mode(widget: QtWidgets.QWidget) -> Iterator[None]:
    """pyqtgraph items draw for export while painting (true marker shapes, no hover buttons)."""
    items = [item for view in widget.findChildren(pg.GraphicsView) for item in view.scene().items()
             if hasattr(item, "setExportMode")]
    for item in items:
        item.setExportMode(True, {"antialias": True})
    try:
        yield
    finally:
        for item in items:
            item.setExportMode(False)


# ----------------------------------------------------------------------------- painting
def logical_size(pixels: tuple[int, int], scale: float, minimum: QtCore.QSize | None = None
                 ) -> tuple[tuple[int, int], float]:
    """(logical size, scale) for a picture of `pixels`: the scale drops if the layout would get
    smaller than the widget's minimum size (a small picture is then drawn with smaller text)."""
    w, h = pixels
    if w < 1 or h < 1:
        raise ValueError(f"a picture needs a positive size, got {w}×{h}")
    if minimum is not None and minimum.width() > 0 and minimum.height() > 0:
        scale = min(scale, w / minimum.width(), h / minimum.height())
    scale = max(scale, MIN_SCALE)
    return (max(1, round(w / scale)), max(1, round(h / scale))), scale


def render_image(widget: QtWidgets.QWidget, pixels: tuple[int, int]) -> QtGui.QImage:
    """Paint a laid-out widget into an image of exactly `pixels` (its logical size × the ratio)."""
    w, h = pixels
    image = QtGui.QImage(w, h, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    ratio = w / max(widget.width(), 1)
    image.setDevicePixelRatio(ratio)
    image.fill(widget.palette().color(QtGui.QPalette.ColorRole.Window))
    dpm = round(96 * ratio / 0.0254)  # 96 dpi at scale 1: image viewers show it at screen size
    image.setDotsPerMeterX(dpm)
    image.setDotsPerMeterY(dpm)
    with export_mode(widget):
        widget.render(image)
    return image


def png_bytes(image: QtGui.QImage, title: str = "") -> bytes:
    """An image as PNG file bytes, with a Title and Software text chunk."""
    image.setText("Software", "gradplay")
    if title:
        image.setText("Title", title)
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise OSError("the image could not be encoded as PNG")
    return bytes(buf.data())


def svg_bytes(widget: QtWidgets.QWidget, title: str = "", description: str = "") -> bytes:
    """A laid-out widget as an SVG document (vector lines, text as <text>, heatmaps as images)."""
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    gen = QtSvg.QSvgGenerator()
    gen.setOutputDevice(buf)
    size = widget.size()
    gen.setSize(size)
    gen.setResolution(96)  # so viewers show it at its layout size (the width is written in mm)
    gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
    gen.setTitle(title)
    gen.setDescription(description or "made with gradplay")
    painter = QtGui.QPainter(gen)
    try:
        with export_mode(widget):
            widget.render(painter, QtCore.QPoint(0, 0))
    finally:
        painter.end()
    buf.close()
    return bytes(buf.data())


def write_png(image: QtGui.QImage, path: str | Path, title: str = "") -> Path:
    path = Path(path)
    atomic_write_bytes(path, png_bytes(image, title))
    return path


# ----------------------------------------------------------------------------- one panel
def panel_png(like: Panel, holder: SessionHolder, path: str | Path, pixels: tuple[int, int] | None = None,
              scale: float = DEFAULT_SCALE) -> Path:
    """Write panel `like` (a fresh copy of it) as a PNG of `pixels` (default: its export size × scale)."""
    if pixels is None:
        w, h = export_sizes(like.name)
        pixels = (round(w * scale), round(h * scale))
    framed = framed_panel(like, holder)
    size, _ = logical_size(pixels, scale, minimum_size(framed))
    with laid_out(framed, size):
        image = render_image(framed, pixels)
    return write_png(image, path, _picture_title(like, holder))


def panel_svg(like: Panel, holder: SessionHolder, path: str | Path, size: tuple[int, int] | None = None) -> Path:
    """Write panel `like` (a fresh copy of it) as SVG, laid out at `size` (default its export size)."""
    framed = framed_panel(like, holder)
    size = size or export_sizes(like.name)
    with laid_out(framed, size):
        data = svg_bytes(framed, _picture_title(like, holder), f"gradplay, step {holder.session.step}")
    path = Path(path)
    atomic_write_bytes(path, data)
    return path


def _picture_title(like: Panel, holder: SessionHolder) -> str:
    return f"{like.title} — {run_title(holder.session)}, step {holder.session.step}"


# ----------------------------------------------------------------------------- everything
def export_all(window, out_dir: str | Path, formats: tuple[str, ...] | list[str] = FORMATS,
               scale: float = DEFAULT_SCALE, pixels: tuple[int, int] | None = None,
               gif_every: int | None = None, progress: Progress | None = None,
               notes: list[str] | None = None) -> list[Path] | None:
    """Write every asked format of the window's session into `out_dir`; the paths written.

    png/svg: one file per panel (`landscape.png`, `loss.svg`, ...); `pixels` fixes every PNG's
    size, else each panel's export size × `scale`. csv: history.csv, evals.csv and timeline.csv. gif: landscape.gif,
    the landscape panel over the run (gif.py). py: train_torch.py (a standalone PyTorch script).
    summary: summary.png, all panels and the config on one page. Returns None if cancelled through
    `progress` (files already written stay). `notes` collects remarks for the user (gif.write_gif).
    """
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown export format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    holder = window.controller
    session = holder.session
    panels = exportable_panels(window)
    jobs: list[tuple[str, Callable[[], list[Path] | None]]] = []
    for name, like in panels.items():
        if "png" in formats:
            jobs.append((f"{like.title} PNG", lambda like=like, name=name: [
                panel_png(like, holder, out / f"{name}.png", pixels, scale)]))
        if "svg" in formats:
            jobs.append((f"{like.title} SVG", lambda like=like, name=name: [
                panel_svg(like, holder, out / f"{name}.svg")]))
    if "csv" in formats:
        from ..core.export import write_contract_csvs

        jobs.append(("history CSV", lambda: list(write_contract_csvs(session, out).values())))
    if "py" in formats:
        from ..core.torch_script import write_torch_script

        jobs.append(("PyTorch script", lambda: [write_torch_script(session, out / "train_torch.py",
                                                                   notes=notes)]))
    if "summary" in formats:
        from .summary import write_summary

        jobs.append(("summary", lambda: [write_summary(window, out / "summary.png")]))
    gif_job = "gif" in formats and "landscape" in panels
    if gif_job:
        from .gif import replay_refusal

        refused = replay_refusal(session)
        if refused:
            gif_job = False
            if notes is not None:
                notes.append(refused)
    total = len(jobs) + (1 if gif_job else 0)
    written: list[Path] = []
    for i, (label, job) in enumerate(jobs):
        if progress is not None and progress(f"Exporting {label}…", i, total) is False:
            return None
        written += job()
    if gif_job:
        from .gif import write_gif

        def frames(done: int, n: int) -> bool:
            # The GIF's frames fill the last step of the overall progress.
            return progress is None or progress(f"Rendering GIF frame {done} of {n}…",
                                                len(jobs) * n + done, total * n) is not False

        path = write_gif(panels["landscape"], holder, out / "landscape.gif", every=gif_every,
                         progress=frames, notes=notes)
        if path is None:
            return None
        written.append(path)
    if progress is not None:
        progress("Done", total, total)
    return written


# ----------------------------------------------------------------------------- without a screen
def export_session(session, out_dir: str | Path, formats: tuple[str, ...] | list[str] = FORMATS,
                   scale: float = DEFAULT_SCALE, pixels: tuple[int, int] | None = None,
                   gif_every: int | None = None, progress: Progress | None = None,
                   notes: list[str] | None = None) -> list[Path] | None:
    """`export_all` for a Session outside the app (`gradplay export`, `gradplay run --export`).

    Builds the main window around the session offscreen (Qt's offscreen platform unless another one
    was chosen; no window ever shows) with a throwaway settings file, exports, and closes it.
    """
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists
    from .app import make_app
    from .controller import Controller
    from .main_window import MainWindow

    make_app()
    previous = QtCore.qInstallMessageHandler(_quiet_offscreen)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = QtCore.QSettings(str(Path(tmp) / "export.ini"), QtCore.QSettings.Format.IniFormat)
            window = MainWindow(Controller(session), settings=settings, restore=False)
            try:
                return export_all(window, out_dir, formats, scale, pixels, gif_every, progress, notes)
            finally:
                window.close()
                window.deleteLater()
                settle()
    finally:
        QtCore.qInstallMessageHandler(previous)


def _quiet_offscreen(kind, context, message: str) -> None:
    """Drop the offscreen platform's notice about window size hints; print every other message."""
    if "propagateSizeHints" not in message:
        import sys

        print(message, file=sys.stderr)
