"""The story of the current preset, as a reading view that links to what it talks about.

The Setup panel's header already shows the preset's title, description and "try" line above the
form. This panel is tabbed with Setup (so the two are never on screen together by default) and adds
what a header cannot: the panels and presets the text names become links ("the Gradients panel"
shows that dock, "vanish_fix_he_relu" opens that preset), the presets that tell the same story
from the other side are listed with one click to switch, and the table of contents of every story.

Presets are grouped by the first word of their file name (vanish_*, explode_*, rosenbrock_*, …).
"""
from __future__ import annotations

import html
import re

from PySide6 import QtCore, QtWidgets

from ...core.config import ConfigError
from ...presets import load_preset, preset_names
from .base import Panel, SessionHolder

# phrases in the stories -> the dock they mean
DOCK_PHRASES = (
    (r"Gradients panel", "gradients"), (r"Loss panel", "loss"), (r"Landscape panel", "landscape"),
    (r"Weights panel", "weights"), (r"(?:saturation|stability) diagnostic", "diagnostics"),
    (r"curvature \(Hessian eigenvalues\)", "curvature"),
)


def group_of(name: str) -> str:
    """The story a preset belongs to: the first word of its file name."""
    return name.split("_", 1)[0]


def load_stories() -> dict[str, dict]:
    """Preset name -> its [meta] (title, description, try), for every preset that loads."""
    out = {}
    for name in preset_names():
        try:
            out[name] = load_preset(name)["meta"]
        except ConfigError:
            continue
    return out


class StoryPanel(Panel):
    """The preset's text with live links, its sibling presets and every story."""

    title = "Story"
    name = "story"
    exportable = False  # interactive: a fresh copy for File → Export would show nothing of it
    link = QtCore.Signal(str, str)  # ("preset" | "dock", name)

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.stories = load_stories()
        self.by_title = {meta.get("title"): name for name, meta in self.stories.items()}
        names = sorted(self.stories, key=len, reverse=True)  # longest first: lr_limit_above before lr
        phrases = [f"(?P<d{i}>{p})" for i, (p, _) in enumerate(DOCK_PHRASES)]
        self._pattern = re.compile("|".join(phrases + [r"\b(?P<preset>" + "|".join(map(re.escape, names))
                                                       + r")\b"]), re.IGNORECASE)
        self.title_label = QtWidgets.QLabel(wordWrap=True)
        f = self.title_label.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.2)
        self.title_label.setFont(f)
        self.body = QtWidgets.QLabel(wordWrap=True)
        self.group = QtWidgets.QLabel(wordWrap=True)
        self.contents = QtWidgets.QLabel(wordWrap=True)
        for lab in (self.body, self.group, self.contents):
            lab.setTextFormat(QtCore.Qt.TextFormat.RichText)
            lab.linkActivated.connect(self._clicked)
            lab.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextBrowserInteraction)
        inner = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(inner)
        col.setContentsMargins(8, 8, 8, 8)
        col.setSpacing(8)
        col.addWidget(self.title_label)
        col.addWidget(self.body)
        col.addWidget(self.group)
        col.addWidget(self.contents)
        col.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(scroll)
        self.setMinimumWidth(250)
        self._shown: tuple | None = None
        self.reset()

    def current(self) -> str | None:
        """The preset the run came from (by its title), or None for a custom run."""
        return self.by_title.get(self.session.config.get("meta", {}).get("title"))

    def linkify(self, text: str) -> str:
        """HTML of `text` with the panels and presets it names as links."""
        out, pos = [], 0
        for m in self._pattern.finditer(text):
            out.append(html.escape(text[pos:m.start()]))
            if m.group("preset"):
                name = m.group("preset")
                href = f"preset:{name}"
            else:
                i = next(int(k[1:]) for k, v in m.groupdict().items() if v and k.startswith("d"))
                href = f"dock:{DOCK_PHRASES[i][1]}"
            out.append(f"<a href='{href}'>{html.escape(m.group(0))}</a>")
            pos = m.end()
        out.append(html.escape(text[pos:]))
        return "".join(out)

    def refresh(self) -> None:
        meta = self.session.config.get("meta", {})
        key = (meta.get("title"), meta.get("description"), meta.get("try"))
        if key == self._shown:
            return
        self._shown = key
        current = self.current()
        self.title_label.setText(meta.get("title") or "Custom run")
        parts = []
        if meta.get("description"):
            parts.append(self.linkify(meta["description"]))
        if meta.get("try"):
            parts.append(f"<i>Try: {self.linkify(meta['try'])}</i>")
        if not parts:
            parts.append("This run has no story. Every preset below tells one in a few seconds of training.")
        self.body.setText("<p>" + "</p><p>".join(parts) + "</p>")
        siblings = [n for n in self.stories if current and group_of(n) == group_of(current)]
        if len(siblings) > 1:
            rows = [(f"▶ <b>{html.escape(self.stories[n].get('title') or n)}</b> (open now)" if n == current else
                     f"<a href='preset:{n}'>{html.escape(self.stories[n].get('title') or n)}</a>")
                    for n in siblings]
            self.group.setText("<b>The same story from the other side</b><br>" + "<br>".join(rows))
        self.group.setVisible(len(siblings) > 1)
        groups: dict[str, list[str]] = {}
        for n in self.stories:
            groups.setdefault(group_of(n), []).append(n)
        items = []
        for names in groups.values():
            links = " · ".join(f"<b>{html.escape(self.stories[n].get('title') or n)}</b>" if n == current else
                               f"<a href='preset:{n}'>{html.escape(self.stories[n].get('title') or n)}</a>"
                               for n in names)
            items.append(f"<li>{links}</li>")
        self.contents.setText("<b>Every story</b><ul style='margin-left:-20px'>" + "".join(items) + "</ul>")

    def reset(self) -> None:
        self._shown = None
        super().reset()

    def _clicked(self, href: str) -> None:
        kind, _, name = href.partition(":")
        self.link.emit(kind, name)
