"""A private, throwaway redis-server for the outage tests: started on a spare port, killed for
real (SIGKILL, as a crashed or partitioned Redis would vanish), started again on the same port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

# The ports this project's tests may use for their own servers.
PORTS = range(17200, 17300)


def spare_port() -> int:
    # Parallel test workers each start where their number points, so they rarely collide.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    offset = (int(worker) * 7 if worker.isdigit() else 0) + os.getpid() % 5
    for index in range(len(PORTS)):
        port = PORTS[(offset + index) % len(PORTS)]
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no spare port in 17200-17299")


class RedisServer:
    def __init__(self) -> None:
        self.port = spare_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url(), socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                # Another test process took the port first: its Redis must not pass for ours.
                self.process = None
                raise RuntimeError(f"redis-server could not listen on port {self.port}")
            try:
                if client.info("server")["process_id"] == self.process.pid:
                    return
                # Another test process's Redis answers on this port: ours will fail to bind.
                self.kill()
                raise RuntimeError(f"port {self.port} is taken")
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None


def redis_server_or_skip() -> RedisServer:
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary (apt-get install redis-server) for an outage")
    for _attempt in range(5):
        server = RedisServer()
        try:
            server.start()
            return server
        except RuntimeError:
            continue
    raise RuntimeError("no redis-server could start on a spare port")
