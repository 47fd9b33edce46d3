"""vaesweep's library: datasets, VAE model families, losses and metrics (no MLflow here)."""
