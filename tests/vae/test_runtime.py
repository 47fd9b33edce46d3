"""The runtime: supported backends, compile options, the version and device record, process setup."""

import sys

import keras
import numpy as np
import pytest

from vae import runtime
from vae.errors import ConfigError
from vae.models import MODELS, build_model

pytestmark = pytest.mark.backend_neutral


def test_torch_and_unknown_backends_are_refused_in_one_line_naming_the_supported_ones():
    for name in ("torch", "theano"):
        with pytest.raises(ConfigError, match="tensorflow or jax") as error:
            runtime.check_backend(name)
        assert "\n" not in str(error.value)
    assert runtime.check_backend() == keras.backend.backend()


def test_compile_options_follow_the_backend_and_the_models_xla_support():
    assert runtime.compile_options("torch")["steps_per_execution"] == 1
    assert runtime.compile_options("jax")["jit_compile"] is True
    assert runtime.compile_options("tensorflow", supports_jit=False)["jit_compile"] is False
    assert runtime.compile_options() == runtime.COMPILE_OPTIONS[keras.backend.backend()]


def test_library_versions_record_the_backend_without_importing_any_library():
    before = set(sys.modules)
    versions = runtime.library_versions("pytest")
    assert not {m.split(".")[0] for m in set(sys.modules) - before} & {"tensorflow", "jax", "torch", "sklearn"}
    backend = keras.backend.backend()
    assert versions["keras_backend"] == backend and versions["keras"] == keras.__version__
    assert versions[backend] and versions["pytest"] == pytest.__version__
    assert "scikit_learn" in versions and "python" in versions


def test_device_info_names_the_backend_device_and_precision():
    info = runtime.device_info()
    assert info["backend"] == keras.backend.backend() and info["precision"] == "float32"
    assert info["device_type"] in ("cpu", "gpu") and info["device"]
    assert set(info) == {"backend", "device", "device_type", "device_count", "device_memory_gb", "precision"}


def test_configure_shares_gpu_memory_and_checks_its_arguments(monkeypatch):
    for name in ("XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_PYTHON_CLIENT_PREALLOCATE", "TF_FORCE_GPU_ALLOW_GROWTH"):
        monkeypatch.delenv(name, raising=False)
    runtime.configure(backend=keras.backend.backend(), memory_fraction=0.24)
    assert runtime.os.environ["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.240"
    assert runtime.os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert runtime.os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    for kwargs, message in [({"memory_fraction": 0}, "fraction"), ({"precision": "float8"}, "precision"),
                            ({"backend": other}, "imported with backend")]:
        with pytest.raises(ConfigError, match=message):
            runtime.configure(**kwargs)


def _one_epoch(family, images=8, **compile_options):
    """A model of ``family`` compiled with ``compile_options`` and its loss after one epoch of
    ``images`` images in batches of 8 (9: a last batch of 1, a second shape to compile)."""
    context = {"num_classes": 3} if family == "cvae" else {}
    model = build_model(family, (16, 16, 1), "bernoulli", latent_dim=2, seed=0, **context)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), **compile_options)
    rng = np.random.default_rng(0)
    x = (rng.random((images, 16, 16, 1)) > 0.5).astype("float32")
    history = model.fit(model.training_inputs(x, rng.integers(0, 3, images)), epochs=1, batch_size=8, verbose=0)
    return model, history.history["loss"][-1]


@pytest.mark.parametrize("family", MODELS)
def test_every_family_trains_with_the_default_compile_options(family):
    model, loss = _one_epoch(family, **runtime.compile_options(supports_jit=MODELS[family].jit_compatible))
    # XLA: always on JAX; on TensorFlow with a GPU only (Keras' "auto").
    assert model.jit_compile == (keras.backend.backend() == "jax" or runtime.device_info()["device_type"] == "gpu")
    assert np.isfinite(loss)


# One family per kind of step: the conv body, each extra term, a grid code, a second input
# (beta and mlp add nothing XLA could refuse that conv has not).
XLA_FAMILIES = [f for f, cls in MODELS.items()
                if f == "conv" or cls.extra_metric_names() or cls.conditional or cls.code_kind != "vector"]


@pytest.mark.parametrize("family", XLA_FAMILIES)
def test_every_kind_of_step_compiles_with_xla_on_tensorflow(family):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the JAX backend compiles every step with XLA (test above)")
    model, loss = _one_epoch(family, images=9, jit_compile=True, steps_per_execution=2)
    assert model.supports_jit and model.jit_compile
    assert np.isfinite(loss)
