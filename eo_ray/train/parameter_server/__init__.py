"""Parameter-server training built from Ray actors (Ray Train has none).

:class:`ParameterShard` actors hold slices of the parameters and their optimizer state;
:class:`ParameterServerWorker` actors run the user's loop on their data shard and exchange
gradients and parameters through :class:`ParameterServerOptimizer`; the
:class:`ParameterServerStrategy` coordinates them (sync or async with bounded staleness).
"""

from eo_ray.train.parameter_server._optimizer import ParameterClient, ParameterServerOptimizer
from eo_ray.train.parameter_server._partition import partition
from eo_ray.train.parameter_server._shard import OptimizerSpec, ParameterShard, PushResult
from eo_ray.train.parameter_server._strategy import ParameterServerStrategy
from eo_ray.train.parameter_server._worker import ParameterServerContext, ParameterServerWorker

__all__ = [
    "OptimizerSpec",
    "ParameterClient",
    "ParameterServerContext",
    "ParameterServerOptimizer",
    "ParameterServerStrategy",
    "ParameterServerWorker",
    "ParameterShard",
    "PushResult",
    "partition",
]
