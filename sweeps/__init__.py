"""Search spaces, Keras Tuner orchestration and MLflow tracking of vaesweep."""
