"""The environments page: ``terrane report --html`` and ``terrane drift --html`` write it.

    page = build_page(engine)                     # every environment: one status read, the drift history
    page = build_page(engine, run=report)         # the environments a drift run checked, with its values
    html = render_html(page)                      # one self-contained HTML document

The page needs no network when it is viewed: its CSS and its small filter
script are inline, and it loads nothing. Every value is escaped, secrets show as
``[secret]`` (drift reports mask them; a value still in Pulumi's secret wire
form is masked too), and the history timelines are cut down to at most
``MAX_MARKS`` marks per environment, so a hundred environments with a year of
hourly runs stay well under a megabyte.

The DOM is a contract (browser tests and notification links rely on it):
``<main>`` with ``<h1>`` "terrane: environments" and ``<p id="generated">``;
``<form id="filters">`` with labelled selects ``#filter-cloud``,
``#filter-account`` and ``#filter-state`` (an "All" option, value "", then each
value present); ``<table id="environments">`` with one
``tr.environment#env-NAME[data-cloud][data-account][data-state]`` per
environment, whose first cell links to ``#drift-NAME``; per environment a
``section.environment-detail#drift-NAME`` (same data attributes) with
``table.drift`` (``tr.property[data-urn][data-path]``, cells ``.resource``,
``.path``, ``.kind``, ``.expected``, ``.actual``), ``table.ignored`` (cells
``.reason``, ``.until``) and ``figure.history#history-NAME`` (an SVG with one
``rect`` per mark, in a ``g`` whose class is the marks' state, which colours
them; each rect has a ``<title>`` "DAYS: STATE", DAYS being ``DAY`` or
``FIRST/LAST``; a ``figcaption``; a visually hidden ``table.history-table``).
Filtering sets ``hidden`` on rows and sections; nothing leaves the DOM.
"""

from terrane.engine.report._model import (
    STATES,
    DriftDetails,
    DriftRow,
    EnvironmentView,
    IgnoredView,
    Page,
    assemble_page,
    build_page,
)
from terrane.engine.report._render import render_html
from terrane.engine.report._timeline import MAX_MARKS, Mark, Timeline, timelines

__all__ = [
    "MAX_MARKS",
    "STATES",
    "DriftDetails",
    "DriftRow",
    "EnvironmentView",
    "IgnoredView",
    "Mark",
    "Page",
    "Timeline",
    "assemble_page",
    "build_page",
    "render_html",
    "timelines",
]
