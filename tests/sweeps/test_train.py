"""`vaesweep train`: one tracked run, and one clear line for every user mistake."""

import gzip
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from data_helpers import write_idx
from mlflow.tracking import MlflowClient
from PIL import Image
from store_helpers import all_runs

from sweeps import record
from sweeps.record import registry as model_registry
from vae import runtime
from vae.errors import ConfigError
from vaesweep.cli import main

IMAGES = ["reconstructions", "samples", "interpolations", "traversals"]


def test_train_records_params_epoch_histories_kl_per_dimension_and_images(store, client, mnist_data, capsys):
    code = main(["train", "--dataset", "mnist", "--data-dir", str(mnist_data), "--model", "conv",
                 "--latent-dim", "4", "--beta", "1", "--depth", "2", "--subset", "256", "--epochs", "2",
                 "--tracking-uri", store])
    assert code == 0
    [run] = all_runs(client)
    assert run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "vae-mnist"
    params = run.data.params
    assert {k: params[k] for k in ["dataset", "model", "latent_dim", "beta", "batch_size", "depth", "epochs", "seed"]} == {
        "dataset": "mnist", "model": "conv", "latent_dim": "4", "beta": "1.0", "batch_size": "64", "depth": "2",
        "epochs": "2", "seed": "0"}
    assert float(params["learning_rate"]) == 1e-3
    assert params["version_keras"].startswith("3.")
    for name in ["loss", "reconstruction_loss", "kl_loss", "elbo", "val_loss", "val_reconstruction_loss",
                 "val_kl_loss", "val_elbo"] + [f"kl_dim_{i}" for i in range(4)]:
        history = client.get_metric_history(run.info.run_id, name)
        assert [m.step for m in history] == [0, 1], name
        assert all(np.isfinite(m.value) for m in history)
    assert "kl_dim_4" not in run.data.metrics
    # kl_dim_<i> is the validation KL of each dimension: they add up to val_kl_loss.
    kl_dims = sum(run.data.metrics[f"kl_dim_{i}"] for i in range(4))
    assert kl_dims == pytest.approx(run.data.metrics["val_kl_loss"], rel=1e-4)
    m = run.data.metrics
    assert m["val_elbo"] == pytest.approx(-(m["val_reconstruction_loss"] + m["val_kl_loss"]), rel=1e-4)
    assert m["test_elbo"] < 0 and 0 <= m["test_active_units"] <= 4
    assert m["test_nll"] <= -m["test_elbo"] + 5  # the IWAE bound is tighter than the ELBO (up to noise)
    # Generation quality in a reference classifier's features (the default quick budget computes it).
    assert m["test_sample_frechet_distance"] >= 0 and 0 <= m["test_sample_precision"] <= 1 and 0 <= m["test_sample_recall"] <= 1
    assert 0 < m["test_reference_accuracy"] <= 1 and m["test_sample_count"] == m["eval_images"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "images")}
    assert not {a for a in artifacts if "+step+" not in a}  # only snapshots: the final figures are apart
    figures = {a.path for a in client.list_artifacts(run.info.run_id, record.IMAGE_DIR)}
    assert figures == {record.image_path(n) for n in IMAGES}
    # before training and after each of two epochs: reconstructions and samples, as PNG and WebP
    assert sorted(a.split("+step+")[1].split("+")[0] for a in artifacts if "+step+" in a) == ["0"] * 4 + ["1"] * 4 + ["2"] * 4
    local = client.download_artifacts(run.info.run_id, record.image_path("samples"))
    assert Image.open(local).size[0] > 28 * 8
    model = client.get_logged_model(model_registry.logged_model_id(client, run.info.run_id))
    assert model.experiment_id == run.info.experiment_id and model.name == "model"
    assert {d.dataset.name for d in run.inputs.dataset_inputs} == {"mnist-train", "mnist-eval"}
    assert "system/cpu_utilization_percentage" in run.data.metrics
    out = capsys.readouterr().out
    assert "test_elbo" in out and run.info.run_id in out


@pytest.fixture
def broken_data(tmp_path):
    """Data folders with a truncated file, a corrupt gzip and an empty CelebA directory."""
    rng = np.random.default_rng(0)
    truncated = tmp_path / "truncated" / "mnist"
    write_idx(truncated, rng.integers(0, 255, (20, 28, 28)), rng.integers(0, 10, 20))
    raw = gzip.decompress((truncated / "t10k-images-idx3-ubyte.gz").read_bytes())
    (truncated / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw[:-100]))
    corrupt = tmp_path / "corrupt" / "mnist"
    write_idx(corrupt, rng.integers(0, 255, (20, 28, 28)), rng.integers(0, 10, 20))
    (corrupt / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b not really gzip")
    (tmp_path / "nodata").mkdir()
    return tmp_path


BAD_INPUTS = {
    "unknown dataset": (["--dataset", "cifar"], "--dataset: invalid choice: 'cifar' (choose from 'mnist'"),
    "unknown model": (["--model", "gan"], "unknown model 'gan'"),
    "latent dimension 0": (["--latent-dim", "0"], "--latent-dim: must be a positive integer, got 0"),
    "negative beta": (["--beta", "-1"], "beta must be 0 or more"),
    "truncated file": (["--data-dir", "{tmp}/truncated"], "t10k-images-idx3-ubyte.gz: file is truncated"),
    "corrupt file": (["--data-dir", "{tmp}/corrupt"], "t10k-labels-idx1-ubyte.gz: cannot read"),
    "missing celeba": (["--dataset", "celeba", "--data-dir", "{tmp}/nodata"], "celeba"),
    "missing data dir": (["--data-dir", "{tmp}/absent"], "does not exist"),
    "not a number": (["--epochs", "two"], "--epochs: invalid positive_int value: 'two'"),
    "cvae without labels": (["--dataset", "dsprites", "--model", "cvae"], "are not 0/1 attributes"),
    "beta for a wae": (["--model", "wae", "--beta", "4"], "wae"),
    "missing inception weights": (["--inception-weights", "{tmp}/none.h5"], "none.h5: no such file"),
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, mnist_data) -> Path:
    """A store holding one finished training run, made once; each case works on a copy."""
    root = tmp_path_factory.mktemp("recorded")
    assert main(["train", "--dataset", "mnist", "--data-dir", str(mnist_data), "--model", "mlp", "--latent-dim", "2",
                 "--subset", "64", "--epochs", "1", "--budget", "smoke",
                 "--tracking-uri", f"sqlite:///{root / 'mlflow.db'}"]) == 0
    return root / "mlflow.db"


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_leaves_the_store_as_it_was(case, recorded, tmp_path, mnist_data, broken_data,
                                                                     capsys):
    shutil.copy(recorded, tmp_path / "mlflow.db")
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=store)
    before = [(r.info.run_id, r.info.status, sorted(r.data.metrics.items())) for r in all_runs(client)]
    assert len(before) == 1
    capsys.readouterr()
    extra, expected = BAD_INPUTS[case]
    argv = ["train", "--dataset", "mnist", "--data-dir", str(mnist_data), "--subset", "64", "--epochs", "1",
            "--tracking-uri", store] + [a.replace("{tmp}", str(broken_data)) for a in extra]
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
    assert "Traceback" not in err[0]
    after = [(r.info.run_id, r.info.status, sorted(r.data.metrics.items())) for r in all_runs(client)]
    assert after == before


def test_bad_input_on_a_fresh_machine_creates_no_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "mnist", "--latent-dim", "0"]) == 2
    assert not (tmp_path / "mlruns").exists()


def test_console_script_prints_one_line_without_traceback(tmp_path):
    import subprocess
    import sys

    exe = shutil.which("vaesweep") or str(__import__("pathlib").Path(sys.executable).parent / "vaesweep")
    proc = subprocess.run([exe, "train", "--dataset", "nope"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith("error: argument --dataset: invalid choice: 'nope' (choose from")
    assert lines[0].endswith("see 'vaesweep train --help'")
    assert "Traceback" not in proc.stderr


def test_two_seeds_are_scored_on_the_same_images_and_k1_iwae_is_the_elbo(store, client, mnist_data):
    common = ["train", "--dataset", "mnist", "--data-dir", str(mnist_data), "--model", "mlp", "--latent-dim", "2",
              "--subset", "128", "--epochs", "1", "--budget", "smoke", "--tracking-uri", store]
    assert main([*common, "--seed", "0"]) == 0
    assert main([*common, "--seed", "1", "--iwae-samples", "1"]) == 0
    first, second = sorted(all_runs(client), key=lambda r: r.data.params["seed"])
    assert first.data.params["eval_digest"] == second.data.params["eval_digest"]
    assert first.data.metrics["eval_images"] == second.data.metrics["eval_images"] == 64
    assert second.data.params["metric_iwae_samples"] == "1"
    m = second.data.metrics
    assert m["test_nll_se"] > 0 and m["test_elbo_se"] > 0
    # k = 1: the IWAE estimate is a one-sample ELBO of the same images (other noise).
    assert abs(m["test_nll"] + m["test_elbo"]) < 2 * math.hypot(m["test_nll_se"], m["test_elbo_se"])


@pytest.mark.backend_neutral
def test_train_runs_on_the_current_backend_and_logs_backend_and_device(store, client, mnist_data):
    import keras

    assert main(["train", "--dataset", "mnist", "--data-dir", str(mnist_data), "--model", "mlp", "--latent-dim", "2",
                 "--subset", "128", "--epochs", "1", "--budget", "smoke", "--tracking-uri", store]) == 0
    [run] = all_runs(client)
    params = run.data.params
    assert run.info.status == "FINISHED" and "test_elbo" in run.data.metrics
    assert params["device_backend"] == keras.backend.backend() == params["version_keras_backend"]
    assert params["device_device"] and params["device_precision"] == "float32"


def test_an_unsupported_backend_is_refused_in_one_line(store, capsys):
    assert main(["train", "--dataset", "mnist", "--backend", "torch", "--tracking-uri", store]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: argument --backend: invalid choice: 'torch'")
    # KERAS_BACKEND=torch is refused the same way when the command starts (before Keras is imported)
    with pytest.raises(ConfigError, match=r"^Keras backend 'torch' is not supported; use tensorflow or jax"):
        runtime.check_backend("torch")
