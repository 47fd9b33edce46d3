"""The HTML report of a sweep: reads MLflow, computes tables and figures, renders a template.

``data`` loads one sweep from the store into a :class:`reports.data.Sweep` and is the only
module that reads the record (through ``sweeps.record`` and ``sweeps.tracking``); each section
is one module of ``reports.sections`` with ``build(sweep) -> dict`` and one block of
``templates/report.html`` of the same name; the helpers beside ``data`` (``frame``,
``figures``, ``stats``) hold what sections share; ``render`` builds the sections the template
names and writes one self-contained HTML file; ``cli`` is the ``report`` command, taking a
:class:`reports.cli.ReportConfig`. A report never trains and never writes to MLflow.
"""
