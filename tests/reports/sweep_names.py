"""Names of the sweeps the report fixtures record (a module of its own: ``conftest`` is not
importable by name when several test folders have one)."""

MAIN_NAME = "xss <script>alert(1)</script>"
FAILED_NAME = "all-diverge"
