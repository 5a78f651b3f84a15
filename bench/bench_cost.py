"""Cost per learner per month, before and after the route changes: the same simulated learners
(``espaluz.dev.costsim``: the original design's 50 messages and 8 voice minutes a day, through the real
handlers) under the old defaults and under today's.

- before: ``LLM_ROUTES`` as they were, Claude Sonnet 4.5 first for conversation and culture, Llama 3.3
  70B for grammar, the check and exercises (set as a settings override). The old voice path cannot be
  expressed as a setting (the routing code changed, not a threshold): both runs use today's.
- after: today's defaults.

    .venv/bin/python bench/bench_cost.py [--learners 10] [--days 2] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BEFORE_ROUTES = {
    "intent": ["groq:llama-3.1-8b-instant"],
    "conversation": ["claude:claude-sonnet-4-5", "groq:llama-3.3-70b-versatile"],
    "check": ["groq:llama-3.3-70b-versatile"],
    "grammar": ["groq:llama-3.3-70b-versatile", "claude:claude-sonnet-4-5"],
    "culture": ["claude:claude-sonnet-4-5", "groq:llama-3.3-70b-versatile"],
    "exercises": ["groq:llama-3.3-70b-versatile"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from espaluz.dev.costsim import simulate

    before = simulate(args.learners, args.days, args.seed, env={"LLM_ROUTES": json.dumps(BEFORE_ROUTES)})
    after = simulate(args.learners, args.days, args.seed)
    b_lines = before["per_learner_month_usd"]["lines"]
    a_lines = after["per_learner_month_usd"]["lines"]
    print(f"USD per learner per month, {args.learners} learners x {args.days} days, seed {args.seed}, "
          f"shares at {after['per_learner_month_usd']['shares_at_learners']:,} learners")  # fmt: skip
    print(f"{'line':32} {'before':>10} {'after':>10}")
    for name in sorted(set(b_lines) | set(a_lines)):
        print(f"{name:32} {b_lines.get(name, 0.0):>10.4f} {a_lines.get(name, 0.0):>10.4f}")
    b_total = before["per_learner_month_usd"]["total_excl_whatsapp"]
    a_total = after["per_learner_month_usd"]["total_excl_whatsapp"]
    print(f"{'total excluding WhatsApp':32} {b_total:>10.4f} {a_total:>10.4f}   (target <= 0.60)")
    received = (before["messages_per_learner_day"], after["messages_per_learner_day"])
    print(f"messages per learner per day: {received[0]} / {received[1]}")
    print(f"run: {before['run']['seconds']} s / {after['run']['seconds']} s")


if __name__ == "__main__":
    main()
