"""`vaesweep report`: the file and its printed path, and user mistakes as one line, exit 2."""

import pytest
from sweep_names import MAIN_NAME

from vaesweep.cli import main

# One worker builds the shared report store once (make test runs pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("reports")


def test_report_writes_reports_dataset_html_and_prints_its_path(store, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--dataset", "mnist", "--sweep", store.main_id, "--tracking-uri", store.uri]) == 0
    out, err = capsys.readouterr()
    assert out == "reports/mnist.html\n"
    html = (tmp_path / "reports" / "mnist.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and store.main_id in html
    assert f"report of sweep '{MAIN_NAME}'" in err
    from mlflow.tracking import MlflowClient

    from sweeps import record

    attached = {a.path for a in MlflowClient(store.uri).list_artifacts(store.main_id)}
    assert record.REPORT_FILE in attached  # on the sweep's parent run, where the UI shows it


@pytest.mark.parametrize(("args", "message"), [
    (["--sweep", "nope"], "error: no sweep 'nope' of mnist in sqlite:///"),
    ([], "error: sweep 'all-diverge' has no finished trial (1 failed: diverged"),
    (["--dataset", "celeba"], "error: no sweep of celeba in sqlite:///"),
])
def test_user_mistakes_are_one_line_on_stderr_and_exit_code_2(store, tmp_path, capsys, args, message):
    argv = ["report", "--dataset", "mnist", "--tracking-uri", store.uri, "--out", str(tmp_path / "r.html"), *args]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_an_empty_place_is_no_store(tmp_path, capsys):
    argv = ["report", "--dataset", "mnist", "--tracking-uri", f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"error: no MLflow store at {tmp_path / 'mlruns' / 'mlflow.db'}")
    assert not (tmp_path / "mlruns").exists()


def test_out_pointing_at_a_folder_is_refused(store, tmp_path, capsys):
    argv = ["report", "--dataset", "mnist", "--sweep", MAIN_NAME, "--tracking-uri", store.uri, "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "is a folder" in capsys.readouterr().err


def test_a_store_without_sweeps_says_so(tmp_path, capsys):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()  # creates the empty store
    assert main(["report", "--dataset", "mnist", "--tracking-uri", uri]) == 2
    err = capsys.readouterr().err
    assert err == f"error: no sweep of mnist in {uri}; run one with: make sweep DATASET=mnist\n"


def test_the_report_command_takes_a_typed_config(store, tmp_path, capsys):
    from reports.cli import ReportConfig, report_command

    config = ReportConfig(dataset="mnist", sweep=MAIN_NAME, out=tmp_path / "r.html", tracking_uri=store.uri)
    assert report_command(config) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'r.html'}\n"
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert ReportConfig(dataset="dsprites").path.as_posix() == "reports/dsprites.html"
