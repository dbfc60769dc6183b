"""The self-contained HTML report: one file, charts embedded as base64 PNG, styles inline, no external
resources, so it opens offline. Rendered by jinja2 with autoescaping on: every name and text from the inputs
(portfolio names, descriptions, pack labels) is escaped."""

from __future__ import annotations

import base64
from functools import lru_cache

import jinja2

from scenarios import __version__
from scenarios.report.document import Chart, Document

TEMPLATE = "report.html.j2"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("scenarios.report", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False)


def render_html(doc: Document) -> str:
    """The report as one HTML string."""
    images = {b.id: base64.b64encode(b.image.png).decode("ascii")
              for s in doc.sections for b in s.blocks if isinstance(b, Chart)}
    return _environment().get_template(TEMPLATE).render(doc=doc, images=images, version=__version__)
