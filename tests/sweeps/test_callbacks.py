"""The tracked fit's callbacks that change what a run evaluates."""

import keras
import numpy as np
import pytest

from sweeps.callbacks import RestoreBestEpoch


def tiny_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.backend_neutral
@pytest.mark.parametrize("direction, values, best", [("max", [-30.0, -10.0, -20.0], 2),
                                                     ("min", [3.0, 1.0, float("nan")], 2)])
def test_the_best_epochs_weights_are_restored_when_training_ends(direction, values, best):
    model = tiny_model()
    restore = RestoreBestEpoch("val_elbo", direction)
    restore.set_model(model)
    snapshots = []
    for epoch, value in enumerate(values):
        model.set_weights([np.full_like(w, epoch + 1.0) for w in model.get_weights()])
        snapshots.append(model.get_weights())
        restore.on_epoch_end(epoch, {"val_elbo": value})
    restore.on_train_end()
    assert restore.best_epoch == best
    for got, expected in zip(model.get_weights(), snapshots[best - 1], strict=True):
        np.testing.assert_array_equal(got, expected)


def test_no_finite_objective_leaves_the_trained_weights():
    model = tiny_model()
    restore = RestoreBestEpoch("val_elbo", "max")
    restore.set_model(model)
    restore.on_epoch_end(0, {"val_loss": 1.0})
    trained = model.get_weights()
    restore.on_train_end()
    assert restore.best_epoch is None
    for got, expected in zip(model.get_weights(), trained, strict=True):
        np.testing.assert_array_equal(got, expected)
