"""The Keras Tuner hypermodel: a search space's hyperparameters -> a compiled VAE, and its fit.

``build(hp)`` declares every hyperparameter of the space (family-specific ones under a
conditional scope on ``model``) and builds the chosen family; ``fit(hp, model, ...)`` tunes
``batch_size`` (Keras Tuner's way of making a fit argument a hyperparameter). The tracking
callbacks arrive in ``fit``'s ``callbacks`` from the tuner: the hypermodel keeps no state.
"""

from sweeps import kt_adapter
from sweeps.space import SearchSpace
from sweeps.training import compile_model, fit_model
from vae.models import build_model, dataset_context

DEFAULT_BATCH_SIZE = 64
ARCHITECTURE = ("model", "latent_dim", "depth", "learning_rate", "batch_size", "likelihood")


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
