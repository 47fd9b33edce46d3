"""The report's sections: one module each, with ``build(sweep) -> dict``, and one block of
``reports/templates/report.html`` of the same name.

The template's blocks are the one list of sections and their page order
(``reports.render.section_names``); a section is found here by its name, so adding one is
one module in this package and one block in the template. Sections read the sweep through
``reports.data`` and the helpers beside it (``figures``, ``stats``, ``frame``), never
through each other: what two sections share lives in a helper.
"""

import importlib
import pkgutil
from types import ModuleType


def module(name: str) -> ModuleType:
    """The module of section ``name`` (``reports.sections.<name>``)."""
    return importlib.import_module(f"{__name__}.{name}")


def names() -> list[str]:
    """Every section module of this package, alphabetically (the template orders the page)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
