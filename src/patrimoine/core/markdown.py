"""Markdown written by people (dataset descriptions, the annual report's narrative) to HTML
that is safe to show: raw HTML is escaped and links cannot run scripts."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown(text: str | None) -> Markup:
    """Markdown to HTML, sanitised: raw HTML is escaped and links cannot run scripts."""
    html = _markdown.render(text or "")
    return Markup(nh3.clean(html, url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow"))
