"""Production operations: secrets loading, metrics, the dead-letter queue, WhatsApp templates, migrations.

Every module here is imported on demand (``espaluz.config.get_settings`` imports ``secrets`` only when
``ESPALUZ_SECRETS`` is set; the CLI imports its commands when invoked), so a function's cold start pays
only for what it uses.
"""
