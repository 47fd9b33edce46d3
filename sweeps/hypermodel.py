"""The Keras Tuner hypermodel: a search space's hyperparameters -> a compiled VAE, and its fit.

``build_configuration``, ``compile_model`` and ``fit_model`` build and fit one configuration
the same way for a search trial, a replicate and a ``vaesweep train`` run.

``build(hp)`` declares every hyperparameter of the space (family-specific ones under a
conditional scope on ``model``) and builds the chosen family; ``fit(hp, model, ...)`` tunes
``batch_size`` (Keras Tuner's way of making a fit argument a hyperparameter). The tracking
callbacks arrive in ``fit``'s ``callbacks`` from the tuner: the hypermodel keeps no state.
"""

import keras

from sweeps import kt_adapter
from sweeps.space import SHARED, SearchSpace
from vae import runtime
from vae.models import build_model, dataset_context

DEFAULT_BATCH_SIZE = 64
# The hyperparameters every configuration has; the rest of its values go to its family.
ARCHITECTURE = ("model", *SHARED)


class VAEHyperModel(kt_adapter.kt.HyperModel):
    """Builds a model of ``space`` for ``dataset``; ``seed`` seeds its weights and noise."""

    def __init__(self, space: SearchSpace, dataset, seed: int):
        super().__init__(name="vae")
        self.space, self.dataset, self.seed = space, dataset, seed

    def declare(self, hp) -> dict:
        """Declare every hyperparameter of the space; returns the active values."""
        families = list(self.space.models)
        values = {"model": hp.Choice("model", families) if len(families) > 1 else hp.Fixed("model", families[0])}
        for name, param in self.space.shared.items():
            values[name] = declare_param(hp, param)
        for name, owners in self.space.family_params().items():
            param = self.space.models[owners[0]][name]
            with hp.conditional_scope("model", owners):
                value = declare_param(hp, param)
            if values["model"] in owners:
                values[name] = value
        return values

    def build(self, hp):
        values = self.declare(hp)
        return build_configuration(values, self.dataset, self.seed)

    def fit(self, hp, model, *args, callbacks=(), epochs=1, initial_epoch=0, **kwargs):
        batch_size = hp.values.get("batch_size", DEFAULT_BATCH_SIZE)
        return fit_model(model, self.dataset, epochs=epochs, batch_size=batch_size, initial_epoch=initial_epoch,
                         callbacks=callbacks)


def build_configuration(values: dict, dataset, seed: int):
    """A compiled model of one configuration (``model``, ``latent_dim``, ... and family extras)."""
    family = values["model"]
    extra = {k: v for k, v in values.items() if k not in ARCHITECTURE and not k.startswith("tuner/")}
    # A swept likelihood models the images the sweep loaded (the space checks they share a kind).
    likelihood = values.get("likelihood", dataset.likelihood)
    model = build_model(family, dataset.image_shape, likelihood, latent_dim=values.get("latent_dim", 16),
                        depth=values.get("depth"), seed=seed, **extra, **dataset_context(family, dataset))
    model.adapt(dataset.x_train)  # data-dependent initial values (the likelihood's scale)
    compile_model(model, values.get("learning_rate", 1e-3))
    return model


def declare_param(hp, param):
    """One hyperparameter of the space as a Keras Tuner ``Fixed``, ``Choice``, ``Int`` or ``Float``."""
    if param.choices is not None:
        if len(param.choices) == 1:
            return hp.Fixed(param.name, param.choices[0])
        return hp.Choice(param.name, param.choices)
    if isinstance(param.min, int) and isinstance(param.max, int) and (param.step is None or isinstance(param.step, int)):
        return hp.Int(param.name, param.min, param.max, step=param.step or 1, sampling=param.sampling)
    return hp.Float(param.name, float(param.min), float(param.max), step=param.step, sampling=param.sampling)


def compile_model(model, learning_rate: float) -> None:
    # Steps per call and XLA as suit the backend and the model's family.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  **runtime.compile_options(supports_jit=model.supports_jit))


def fit_model(model, dataset, *, epochs, batch_size, initial_epoch=0, callbacks=()):
    """``model.fit`` on the dataset's training split, validated on its validation split."""
    return model.fit(
        model.training_inputs(dataset.x_train, dataset.y_train),
        validation_data=(model.training_inputs(dataset.x_val, dataset.y_val),),
        epochs=epochs,
        initial_epoch=initial_epoch,
        batch_size=batch_size,
        shuffle=True,
        callbacks=list(callbacks),
        verbose=0,
    )
