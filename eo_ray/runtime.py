"""Connecting to Ray: a running cluster when one is named, else a quiet local instance."""

from __future__ import annotations

import logging
import os
import socket
import warnings
from dataclasses import dataclass
from urllib.parse import urlparse

from eo_ray import _ray_data
from eo_ray.errors import ConfigError, RuntimeConnectionError
from eo_ray.storage import Workspace, set_workspace, workspace

_PROPAGATED_ENV = (
    "EO_RAY_HOME",
    "EO_RAY_DATA",
    "EO_RAY_CACHE",
    "EO_RAY_ONLINE",
    "AWS_ENDPOINT_URL",
    "EO_RAY_STOCK_RAY_DATA",
    "EO_RAY_RAY_DATA_FIXES",
)


@dataclass(frozen=True)
class RuntimeInfo:
    """What ``eo.init`` connected to."""

    address: str
    local: bool
    resources: dict[str, float]
    workspace: Workspace


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast with one clear line when a host:port address does not answer."""
    if address in ("auto", "local"):
        return
    target = address if "://" in address else f"tcp://{address}"
    parsed = urlparse(target)
    if not parsed.hostname:
        raise ConfigError(f"RAY_ADDRESS {address!r} is not host:port, ray://host:port or 'auto'.")
    port = parsed.port or (10001 if parsed.scheme == "ray" else 6379)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        raise RuntimeConnectionError(
            f"Cannot reach the Ray cluster at {address!r} ({exc.strerror or exc}); "
            "start it or unset RAY_ADDRESS to run on a local Ray."
        ) from None


def quiet_logging() -> None:
    """Silence Ray's start-up chatter in this process; warnings and errors still surface."""
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("ray", "ray.data", "ray.tune", "ray.train", "ray.serve"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Token auth stays on; its start-up notice is noise for a local instance.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(
        logging.ERROR
    )
    # eo-ray turns Ray Data's own bars off (it shows its own); Ray Data warns about that.
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"ray\..*")


def init(
    address: str | None = None,
    home: str | None = None,
    *,
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    progress_bars: bool = False,
    log_to_driver: bool = True,
    ray_data_fixes: bool | None = None,
) -> RuntimeInfo:
    """Connect to Ray and fix the workspace root; idempotent.

    ``address`` (or ``RAY_ADDRESS``) names a running cluster; without one a local Ray sized
    to this machine is started, with no dashboard and no log noise. ``home`` (or
    ``EO_RAY_HOME``) is the root URI of every store and is passed to all Ray workers.
    ``log_to_driver=False`` keeps workers' output in Ray's log files instead of the console.
    ``ray_data_fixes=True`` (or ``EO_RAY_RAY_DATA_FIXES=1``) applies eo-ray's two Ray Data
    workarounds (see ``eo_ray/_ray_data.py``) here and in the workers this call starts, on
    the Ray versions they were tested with; ``False`` removes them from this process.
    """
    import ray

    set_workspace(home) if home is not None else workspace()
    quiet_logging()
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        kwargs: dict = {
            "logging_level": logging.WARNING,
            "log_to_driver": log_to_driver,
            "configure_logging": True,
        }
        # Inside `ray job submit` the job's runtime_env (working_dir, env vars) applies;
        # passing another one here would replace it. There, workers get eo-ray's Ray Data
        # workarounds only if the job's runtime_env names the hook and sets
        # EO_RAY_RAY_DATA_FIXES=1 (see eo_ray/_ray_data.py).
        if not os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR"):
            kwargs["runtime_env"] = runtime_env(_ray_data.wanted(ray_data_fixes))
        if address:
            _check_reachable(address)
            try:
                ray.init(address=address, **kwargs)
            except ConnectionError as exc:
                raise RuntimeConnectionError(
                    f"Cannot connect to the Ray cluster at {address!r}: {exc}".rstrip(".") + "."
                ) from None
        else:
            ray.init(
                include_dashboard=False,
                num_cpus=num_cpus or os.cpu_count(),
                num_gpus=num_gpus,
                **kwargs,
            )
    # Opt-in: Datasets use every CPU from their first second and hand a finished task's CPU
    # on at once (in the driver here; in workers through the setup hook above).
    if _ray_data.wanted(ray_data_fixes):
        _ray_data.install()
    elif ray_data_fixes is False:
        _ray_data.uninstall()
    try:
        from ray.data import DataContext

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = progress_bars
        ctx.print_on_execution_start = False
        # Ray Data configures its own logger on import; keep its INFO tips out of user output.
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    except Exception as exc:  # noqa: BLE001 - progress bars are cosmetic; never fail init on them
        logging.getLogger(__name__).debug("Could not configure Ray Data progress: %s", exc)
    return info()


def runtime_env(ray_data_fixes: bool) -> dict:
    """The runtime_env of a Ray that :func:`init` starts or joins: eo-ray's settings for
    every worker and, with ``ray_data_fixes``, the hook that applies them in workers."""
    env_vars = {k: os.environ[k] for k in _PROPAGATED_ENV if os.environ.get(k)}
    if not ray_data_fixes:
        return {"env_vars": env_vars}
    env_vars[_ray_data.ENV] = "1"
    return {"env_vars": env_vars, "worker_process_setup_hook": _ray_data.SETUP_HOOK}


def info() -> RuntimeInfo:
    """Describe the Ray instance this process is connected to."""
    import ray

    if not ray.is_initialized():
        raise RuntimeConnectionError("Ray is not initialised: call eo.init() first.")
    ctx = ray.get_runtime_context()
    gcs = getattr(ctx, "gcs_address", "") or ""
    return RuntimeInfo(
        address=gcs,
        local=not bool(os.environ.get("RAY_ADDRESS")),
        resources={k: float(v) for k, v in ray.cluster_resources().items() if "node:" not in k},
        workspace=workspace(),
    )


def is_initialized() -> bool:
    """Whether this process is connected to Ray."""
    import ray

    return ray.is_initialized()


def shutdown() -> None:
    """Disconnect from Ray (and stop the local instance if this process started it)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
