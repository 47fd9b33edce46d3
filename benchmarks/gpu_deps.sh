#!/usr/bin/env bash
# Keras and its pure dependencies for Python 3.12 on x86_64 Linux, into .gpu-deps/ (ignored by
# git): the GPU image has JAX with CUDA, NumPy and ml_dtypes but no Keras, and no network.
# Then, on the GPU machine (the folder travels with the working tree):
#   PYTHONPATH=$PWD:$PWD/.gpu-deps python benchmarks/gpu.py --workers 1,4
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
KERAS_VERSION=$(.venv/bin/python -c 'import keras; print(keras.__version__)' 2>/dev/null || echo 3.15.1)
rm -rf .gpu-deps
"$PIP" install --quiet --no-compile --no-deps --target .gpu-deps --python-version 3.12 --only-binary=:all: \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    "keras==$KERAS_VERSION" absl-py rich namex h5py optree markdown-it-py mdurl pygments
rm -rf .gpu-deps/bin
du -sh .gpu-deps
