"""Billing with Stripe: plans (``plans``), the payments port and its Stripe adapter (``stripe_client``),
webhook events applied once and in any order (``events``), entitlements (``entitlements``), the tutor's
per-turn gate (``tutor_gate``), offers and follow-ups (``offers``), chat texts (``messages``), notices
(``notify``) and the ``espaluz billing report`` command (``commands``)."""
