"""Start and stop the whole local stack: embedded services, migrations, settings, the web app."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import uvicorn

from espaluz.dev.app import DevContext, create_app, wipe_data
from espaluz.dev.services import LocalServices, check_data_dir, check_port_free, start_services
from espaluz.dev.settings import DevSecrets, apply_environment
from espaluz.dev.worker import QueueWorker, SchedulerTicker
from espaluz.storage.postgres import close_pools, migrate

logger = logging.getLogger(__name__)


class LocalStack:
    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        reset: bool = False,
        database_url: str = "",
        redis_url: str = "",
        run_worker: bool = True,
        run_scheduler: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.reset = reset
        self.database_url = database_url
        self.redis_url = redis_url
        self.run_worker = run_worker
        self.run_scheduler = run_scheduler  # the scheduler's pass every minute (``SchedulerTicker``)
        self.services: LocalServices | None = None
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.worker: QueueWorker | None = None
        self.ticker: SchedulerTicker | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def prepare(self) -> uvicorn.Server:
        """Check, start services, migrate, configure. Raises ``StartupError`` with a one-line reason."""
        check_data_dir(self.data_dir)
        check_port_free(self.host, self.port)
        if self.reset:
            wipe_data(self.data_dir)
        self.services = start_services(self.data_dir, self.database_url, self.redis_url)
        migrate(self.services.database_url)
        dev_secrets = DevSecrets.load_or_create(self.data_dir).effective()  # the environment's win
        apply_environment(
            base_url=self.url,
            database_url=self.services.database_url,
            redis_url=self.services.redis_url,
            dev_secrets=dev_secrets,
            data_dir=self.data_dir,
        )
        ctx = DevContext(
            self.url,
            self.data_dir,
            dev_secrets,
            self.services.redis_url,
            run_worker=self.run_worker,
            run_scheduler=self.run_scheduler,
        )
        app = create_app(ctx)
        self.worker = app.state.worker
        self.ticker = app.state.ticker
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        return self.server

    def wait(self) -> None:
        """Block until the server thread ends (after ``stop`` or a fatal error)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def serve_in_thread(self, timeout: float = 30.0) -> None:
        server = self.server or self.prepare()
        self._thread = threading.Thread(target=server.run, name="espaluz-dev-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("local stack did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
        if self.ticker is not None:  # before the services it reads from go away
            self.ticker.stop()
        if self.worker is not None:
            self.worker.stop()
        close_pools()
        if self.services is not None:
            self.services.stop()
