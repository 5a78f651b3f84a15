"""Billing with Stripe: plans and prices (``plans``), which turns the free tier counts (``free_tier``),
the payments port and its Stripe adapter (``stripe_client``), webhook events applied once and in any order
(``events``), entitlements (``entitlements``), offers and follow-ups (``offers``), chat texts in Spanish
and English (``messages``), notices (``notify``) and the ``espaluz billing`` commands (``commands``).

A library: it never imports the tutor. The tutor's paywall step (``espaluz.tutor.paywall``) calls it.
"""
