"""What reports/ may reach: the record through reports.data only, no schema literal, no
argument parser, and sections that never import each other."""

import ast
from pathlib import Path

import pytest

import reports
from sweeps import record

ROOT = Path(reports.__file__).parent
MODULES = sorted(ROOT.rglob("*.py"))
# The data layer: reports.data and the trial frame it builds.
READS_THE_RECORD = {ROOT / "data.py", ROOT / "frame.py"}
# Values of the record's schema that must never be spelled in reports/ (compared whole; the
# roles "sweep" and "trial" are left out, as they are also the names of logged params and columns).
SCHEMA_VALUES = {record.FINISHED, record.FAILED, record.KILLED, record.RUNNING, record.REPLICATE, record.ROLE, record.SWEEP, record.PARENT, record.BEST_CONFIG_DIGEST,
                 record.BEST_RUN_ID, record.TRIAL_STATUS, record.CODES_FILE, record.PER_IMAGE_FILE}
# Pieces of the schema that must not appear inside any string either.
SCHEMA_PARTS = (record.EXPERIMENT_PREFIX, f"{record.IMAGE_DIR}/", ".npz")


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def strings(path: Path) -> list[str]:
    """The string constants of a module, docstrings left out (they may name the schema)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_data_layer_reads_the_record_and_nothing_parses_arguments(path):
    found = imports(path)
    assert "argparse" not in found
    assert not any(name.endswith("MlflowClient") for name in found), "use sweeps.tracking.connect"
    if path not in READS_THE_RECORD:
        assert not {n for n in found if n == "sweeps" or n.startswith(("sweeps.", "mlflow"))}, \
            "read the sweep through reports.data"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_schema_value_is_spelled_in_reports(path):
    for text in strings(path):
        assert text not in SCHEMA_VALUES, f"{text!r}: read it from reports.data (which takes it from sweeps.record)"
        assert not any(part in text for part in SCHEMA_PARTS), f"{text!r} spells the record's schema"


@pytest.mark.parametrize("path", sorted((ROOT / "sections").glob("[!_]*.py")), ids=lambda p: p.stem)
def test_sections_never_import_each_other(path):
    assert not {n for n in imports(path) if n.startswith("reports.sections")}
