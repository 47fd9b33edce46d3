"""Render a sweep into one self-contained HTML file.

The template names the sections: each ``{% block NAME %}`` of ``templates/report.html`` is
filled from ``reports/sections/NAME.py``'s ``build(sweep) -> dict``, available to the block as
the variable ``NAME``. Adding a section is one module and one block; nothing here changes.
"""

import logging
import time
from pathlib import Path

import jinja2

from reports import sections
from reports.data import Sweep

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "report.html"
log = logging.getLogger("vaesweep")


def environment() -> jinja2.Environment:
    # Autoescape everything: run names, tags, params and failure reasons are user text.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def section_names(template: jinja2.Template | None = None) -> list[str]:
    """The sections of the report, in page order (the template's blocks)."""
    template = template or environment().get_template(TEMPLATE)
    return list(template.blocks)


def build_sections(sweep: Sweep, names: list[str]) -> dict:
    """``{name: reports.sections.<name>.build(sweep)}`` for every section."""
    context = {}
    for name in names:
        start = time.monotonic()
        context[name] = sections.module(name).build(sweep)
        log.debug(f"report section {name}: {time.monotonic() - start:.2f}s")
    return context


def render(sweep: Sweep) -> str:
    """The report of ``sweep`` as an HTML string."""
    template = environment().get_template(TEMPLATE)
    context = build_sections(sweep, section_names(template))
    generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return template.render(**context, sections=list(context), generated=generated)


def render_sections(sweep: Sweep, names: list[str]) -> str:
    """Only the named sections' HTML, one after the other (for tests and quick looks)."""
    template = environment().get_template(TEMPLATE)
    context = template.new_context(build_sections(sweep, names))
    return "".join("".join(template.blocks[name](context)) for name in names)


def write(sweep: Sweep, path: str | Path) -> Path:
    """Render the report and write it to ``path`` (parents created); returns the path."""
    path = Path(path)
    html = render(sweep)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
