"""Data-parallel training of a small MLP with `tiers.jit` on 2 processes, on JAX's multi-host
runtime (`jax.distributed`), over 127.0.0.1.

    python examples/multiprocess.py                 # launch: spawns both workers, checks them
    python examples/multiprocess.py --worker 0 --port 12355 --processes 2   # one worker by hand

The recipe, which is the same on several machines (give the coordinator's address instead of
127.0.0.1 and start one worker per machine):

1. In every process, before any other JAX call: `jax.config.update(
   "jax_cpu_collectives_implementation", "gloo")` (CPU collectives across processes), then
   `jax.distributed.initialize(coordinator_address, num_processes, process_id,
   initialization_timeout=...)`. Process 0 hosts the coordinator.
2. `jax.devices()` is now every process's devices; a `Mesh` over them with a "data" axis,
   the batch sharded over it (`NamedSharding(mesh, P("data"))`), parameters replicated.
3. Each process builds its share of the global batch with
   `jax.make_array_from_process_local_data`, and calls the same `tiers.jit` function with
   those shardings; XLA inserts the cross-process reduction of the gradients.

Failure is bounded, never a hang: a worker whose peers do not join within `--timeout` seconds
exits with a one-line error (`jax.distributed.initialize`'s `initialization_timeout`), and the
launcher stops all workers and reports the first that failed, or that all did not finish in
time. Workers run on CPU unless `--platform` names another (each then takes one local device).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import numpy as np

STEPS, BATCH, LR = 3, 16, 0.1


def dataset() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The full batch and initial parameters, the same in every process (fixed seed)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 4)).astype(np.float32)
    y = np.sin(x.sum(axis=1, keepdims=True)).astype(np.float32)
    params = {"w1": rng.standard_normal((4, 16)).astype(np.float32) * 0.5,
              "b1": np.zeros(16, np.float32),
              "w2": rng.standard_normal((16, 1)).astype(np.float32) * 0.5}
    return x, y, params


def train_step(params: dict[str, Any], x: Any, y: Any) -> tuple[dict[str, Any], Any]:
    """One SGD step on the mean squared error; returns the new parameters and the loss."""
    import jax
    import jax.numpy as jnp

    def loss_fn(p: dict[str, Any]) -> Any:
        h = jnp.tanh(x @ p["w1"] + p["b1"])
        return jnp.mean((h @ p["w2"] - y) ** 2)

    loss, grads = jax.value_and_grad(loss_fn)(params)
    return jax.tree_util.tree_map(lambda p, g: p - LR * g, params, grads), loss


def train(step: Any, params: Any, x: Any, y: Any) -> tuple[Any, list[float]]:
    losses = []
    for _ in range(STEPS):
        params, loss = step(params, x, y)
        losses.append(loss)
    return params, losses


def single_process() -> dict[str, Any]:
    """The reference: the same steps on the whole batch in this process."""
    import tiers

    x, y, params = dataset()
    params, losses = train(tiers.jit(train_step), params, x, y)
    return {"params": {k: np.asarray(v).tolist() for k, v in params.items()},
            "losses": [float(v) for v in losses]}


def worker(process_id: int, processes: int, port: int, timeout: int, platform: str,
           fail_after_join: bool = False) -> None:
    """One process of the data-parallel run; prints its result as one JSON line."""
    import jax

    jax.config.update("jax_platforms", platform)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    # JAX aborts the process (SIGABRT, "DEADLINE_EXCEEDED ... RegisterTask") when the others
    # do not join in time; this line says what it was waiting for.
    print(f"worker {process_id}/{processes}: joining 127.0.0.1:{port}, waiting up to "
          f"{timeout} s for all {processes} processes", file=sys.stderr, flush=True)
    try:
        jax.distributed.initialize(
            coordinator_address=f"127.0.0.1:{port}", num_processes=processes,
            process_id=process_id, initialization_timeout=timeout,
            local_device_ids=None if platform == "cpu" else [process_id],
            heartbeat_timeout_seconds=max(timeout, 10), shutdown_timeout_seconds=timeout)
    except Exception as e:  # noqa: BLE001 - JAX raises several kinds; all mean "no cluster"
        reason = str(e).strip().splitlines()[0][:300]
        sys.exit(f"worker {process_id}/{processes}: the cluster at 127.0.0.1:{port} did not "
                 f"form within {timeout} s (are all {processes} processes started?): {reason}")

    if fail_after_join:  # a crash, to test that the others do not hang on a dead peer
        print(f"worker {process_id}/{processes}: crashing after joining, as asked",
              file=sys.stderr, flush=True)
        os._exit(3)
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    import tiers

    mesh = Mesh(np.array(jax.devices()), ("data",))
    replicated, rows = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    x, y, params = dataset()
    share = BATCH // processes
    mine = slice(process_id * share, (process_id + 1) * share)
    gx = jax.make_array_from_process_local_data(rows, x[mine], x.shape)
    gy = jax.make_array_from_process_local_data(rows, y[mine], y.shape)
    gparams = {k: jax.device_put(v, replicated) for k, v in params.items()}
    step = tiers.jit(train_step, in_shardings=(replicated, rows, rows),
                     out_shardings=(replicated, replicated))
    gparams, losses = train(step, gparams, gx, gy)
    # Replicated results: this process's copy is the whole value.
    local = {k: np.asarray(v.addressable_data(0)).tolist() for k, v in gparams.items()}
    print(json.dumps({"process": process_id, "devices": len(jax.devices()),
                      "params": local,
                      "losses": [float(np.asarray(v.addressable_data(0))) for v in losses]}),
          flush=True)
    jax.distributed.shutdown()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(processes: int = 2, timeout: int = 60, platform: str = "cpu",
           start: int | None = None, fail: int | None = None) -> list[dict[str, Any]]:
    """Start `processes` workers and return their results; `RuntimeError` naming the failed
    worker, never a hang. To test failures: start only the first `start` workers, or make
    worker `fail` exit right after joining."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # one device per worker
    cmd = [sys.executable, os.path.abspath(__file__), "--processes", str(processes),
           "--port", str(port), "--timeout", str(timeout), "--platform", platform]
    procs = [subprocess.Popen([*cmd, "--worker", str(i),
                               *(["--fail-after-join"] if i == fail else [])],
                              env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for i in range(processes if start is None else start)]
    deadline = time.monotonic() + timeout + 30
    try:
        while any(p.poll() is None for p in procs):
            failed = [i for i, p in enumerate(procs) if p.poll() not in (None, 0)]
            if failed:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {processes} workers did not finish in {timeout + 30} s")
            time.sleep(0.05)
        for i, p in enumerate(procs):
            if p.poll() not in (None, 0):
                raise RuntimeError(_failure(i, processes, port, timeout, p))
        return [json.loads(p.stdout.read().strip().splitlines()[-1]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for stream in (p.stdout, p.stderr):
                if stream:
                    stream.close()


def _failure(i: int, processes: int, port: int, timeout: int, proc: subprocess.Popen) -> str:
    """One line saying why worker `i` failed, from its exit status and stderr."""
    err = proc.stderr.read() if proc.stderr else ""
    if "RegisterTask" in err or "did not form" in err:
        return (f"worker {i}/{processes}: the cluster at 127.0.0.1:{port} did not form within "
                f"{timeout} s: not all {processes} processes joined (exit {proc.returncode})")
    lines = [ln for ln in err.splitlines()
             if ln.strip() and not ln.lstrip().startswith(("@", "***"))]
    return f"worker {i}/{processes} failed (exit {proc.returncode}): " + (
        lines[-1].strip() if lines else "no output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", type=int, help="run as this worker (default: launch all)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, help="the coordinator's port (workers)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds to form the cluster")
    parser.add_argument("--platform", default="cpu", help="the JAX platform of the workers")
    parser.add_argument("--fail-after-join", action="store_true",
                        help="(testing) exit with an error right after joining")
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.processes, args.port, args.timeout, args.platform,
               args.fail_after_join)
        return
    results = launch(args.processes, args.timeout, args.platform)
    want = single_process()
    for r in results:
        gap = max(float(np.max(np.abs(np.asarray(r["params"][k]) - np.asarray(v))))
                  for k, v in want["params"].items())
        print(f"process {r['process']} of {len(results)} ({r['devices']} devices in the mesh): "
              f"losses {np.round(r['losses'], 5).tolist()}, "
              f"max |params - single process| = {gap:.2e}")
    print(f"single process losses {np.round(want['losses'], 5).tolist()}")


if __name__ == "__main__":
    main()
