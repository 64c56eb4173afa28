"""The page as HTML: one self-contained file (inline CSS and script, no network at view time).

Every value reaches the page through Jinja2's autoescaping, so a name,
error or property value holding markup shows as text.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from urllib.parse import quote

import jinja2

from terrane.engine.report._model import STATE_WORDS, Page

TEMPLATE = "report.html.j2"


def render_html(page: Page) -> str:
    """The page as one HTML document."""
    return _templates().get_template(TEMPLATE).render(page=page)


@functools.cache
def _templates() -> jinja2.Environment:
    templates = jinja2.Environment(
        loader=jinja2.PackageLoader("terrane.engine.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters.update(anchor=anchor, utc=utc, fragment=fragment)
    templates.globals.update(state_words=STATE_WORDS)
    return templates


def anchor(name: str) -> str:
    """An environment name as part of an id: valid names are kept as they are (stable links); others encoded."""
    return quote(name, safe="._-")


def fragment(element_id: str) -> str:
    """``#ID`` as a link: a browser decodes the fragment once before it looks the id up."""
    return "#" + quote(element_id, safe="._-")


def utc(stamp: str | None) -> str:
    """An ISO 8601 time as a reader scans it, to the minute, in UTC (the page is read anywhere)."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
