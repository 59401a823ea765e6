"""What makes an HTML file self-contained, checked by parsing it: nothing the browser would fetch."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements that load something by themselves (a link <a href> is only followed when clicked).
LOADING = {
    "script",
    "link",
    "img",
    "iframe",
    "frame",
    "object",
    "embed",
    "source",
    "video",
    "audio",
    "track",
    "image",
    "input",
    "base",
}
FETCHING_CSS = re.compile(r"url\s*\(|@import|@font-face", re.I)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.tags: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag in LOADING:
            self.problems.append(f"<{tag} {values}>")
        if tag == "use" and any(k in values for k in ("href", "xlink:href")):
            href = values.get("href") or values.get("xlink:href") or ""
            if not href.startswith("#"):
                self.problems.append(f"<use href={href}>")
        if FETCHING_CSS.search(values.get("style") or ""):
            self.problems.append(f"<{tag} style=...url()>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and FETCHING_CSS.search(data):
            self.problems.append("<style> fetches (url(), @import or @font-face)")


def external_loads(document: str) -> list[str]:
    """Every element or style in ``document`` that would make the browser fetch something."""
    collector = _Collector()
    collector.feed(document)
    collector.close()
    return collector.problems


def tags(document: str) -> list[str]:
    """Every start tag, in document order."""
    collector = _Collector()
    collector.feed(document)
    return collector.tags
