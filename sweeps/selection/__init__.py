"""Choosing among trials on more than one figure: Pareto ranks and hyperparameter importance.

Pure functions on plain dictionaries of trial values: nothing here reads MLflow or builds a
model, so the sweep and the report call them on what they have read from the store.
"""
