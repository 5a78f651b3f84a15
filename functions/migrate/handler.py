"""One-off Lambda that applies the database migrations: a deploy step, run after each `deploy`.

    npx osls invoke --function migrate --stage prod

It runs inside the VPC next to the tutor (the database is not reachable from outside), with the migration
files packaged beside the library (``infra/migrations``). yoyo records what it applied and takes a lock,
so a second invocation, or two at once, apply nothing twice: the answer lists what this call applied
(empty when the schema is current).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from espaluz.config import get_settings
from espaluz.storage.postgres import migrate

logger = Logger(service="espaluz-migrate", log_uncaught_exceptions=True)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    applied = migrate(get_settings().database_url)
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}
