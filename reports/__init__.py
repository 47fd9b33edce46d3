"""The HTML report of a sweep: reads MLflow, computes tables and figures, renders a template.

``data`` loads one sweep from the store into a :class:`reports.data.Sweep`; each section is
one module here with ``build(sweep) -> dict`` and one block of ``templates/report.html`` of
the same name; ``render`` builds the sections the template names and writes one
self-contained HTML file. A report never trains and never writes to MLflow.
"""
