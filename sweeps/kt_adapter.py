"""The one module that reaches into Keras Tuner's private modules (``keras_tuner.src``).

keras-tuner 1.4.8 exposes no public API for its distributed mode (the gRPC oracle service
and client), for a trial's status enum or for its debug switch; everything vaesweep needs of
them is re-exported here, so an upgrade of keras-tuner is checked in one place.
"""

import warnings

import keras_tuner as kt
from keras_tuner.src import config as _config
from keras_tuner.src import protos
from keras_tuner.src.distribute import oracle_client
from keras_tuner.src.distribute.oracle_chief import OracleServicer, exit_chief
from keras_tuner.src.engine import conditions
from keras_tuner.src.engine.oracle import synchronized
from keras_tuner.src.engine.trial import TrialStatus

__all__ = ["OracleClient", "OracleServicer", "TrialStatus", "exit_chief", "install", "kt", "local_oracle", "proto",
           "service", "service_grpc", "synchronized"]

OracleClient = oracle_client.OracleClient


def proto():
    """keras-tuner's protobuf messages (``Trial``, ``Condition``, ``TrialStatus``, ...)."""
    return protos.get_proto()


def service():
    """keras-tuner's gRPC request and response messages."""
    return protos.get_service()


def service_grpc():
    """keras-tuner's gRPC service module (``OracleStub``, ``add_OracleServicer_to_server``)."""
    return protos.get_service_grpc()


def local_oracle(tuner):
    """The oracle a worker's tuner wraps in its gRPC client (keras-tuner's ``_oracle``)."""
    return tuner.oracle._oracle


def _parent_to_proto(self):
    """keras-tuner 1.4.8's ``conditions.Parent.to_proto`` without the debug ``print`` it shipped
    with, which writes a condition value to stdout each time a trial crosses gRPC."""
    first = self.values[0]
    kind = ("string_value" if isinstance(first, str) else "boolean_value" if isinstance(first, bool)
            else "int_value" if isinstance(first, int) else "float_value")
    message = proto()
    values = [message.Value(**{kind: v}) for v in self.values]
    return message.Condition(parent=message.Condition.Parent(name=self.name, values=values))


def install() -> None:
    """Adjust keras-tuner for a sweep (idempotent; called when a sweep makes its tuner, not on
    import, so that importing vaesweep changes nothing):

    - keras-tuner prints every failed trial's traceback when DEBUG is on (its default); a failed
      trial is a result here, reported in one line and recorded in MLflow with its reason;
    - ``conditions.Parent.to_proto`` without its debug ``print``;
    - Hyperband restores a trial's weights from an earlier trial's checkpoint into a fresh
      optimizer; Keras warns that the old optimizer state is skipped, which is what we want.
    """
    _config.DEBUG = False
    conditions.Parent.to_proto = _parent_to_proto
    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
