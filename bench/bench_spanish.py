"""Benchmark of the Spanish engine (run: ``.venv/bin/python bench/bench_spanish.py``).

Prints p50/p95/p99 latencies of a full conjugation (cold: caches cleared; and cached), a drill
answer check, a quick ``check`` of a ~30-word message, a g2p word (uncached), plus memory after
import and the import time of the package, both measured in fresh subprocesses.

Targets (issue 4): drill check and g2p word < 100 µs, check < 2 ms, import < 200 ms.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from espaluz.spanish import conjugation, corrections, drills, phonetics  # noqa: E402

_VERBS_TEXT = (
    "hablar comer vivir tener hacer decir ir ser estar poner venir salir traer caer oír reír prever "
    "construir averiguar enviar continuar reunir dormir pedir sentir jugar adquirir erguir yacer "
    "levantarse bendecir satisfacer conducir elegir seguir llover abolir pudrir imprimir"
)
VERBS = _VERBS_TEXT.split()
MESSAGES = (
    "Hola, yo tiene un perro y una gata. Ayer fui al playa con mi hermana y el agua estaba fría. "
    "¿Como estás? Me gusta los perros y quiero visitar mi abuela pronto.",
    "Esta semana estoy muy ocupada porque trabajo en una oficina nueva y mis compañeros son muy "
    "simpáticos, pero el problema es que la oficina está lejos de mi casa.",
    "Soy en casa con mi familia. Mi madre esta cansada y mi padre cocina la cena. Realicé que no "
    "tenemos pan, así que voy a la tienda ahora mismo antes de que cierre.",
)
_WORDS_TEXT = (
    "perro pero ciudad México Oaxaca pingüino guerra queso hielo huevo calle chico niño alrededor "
    "Israel honra rosa examen taxi agua tengo envío rey hoy 25 murciélago desarrollar"
)
WORDS = _WORDS_TEXT.split()
ANSWERS = ("tuve", "tuvo", "tengo", "estuve", "tuvé", "xyz", "vengás", "puedo", "podo")


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49], qs[94], qs[98]


def measure(fn: Callable[[int], object], n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        out.append((time.perf_counter_ns() - t0) / 1000)
    return out


def report(name: str, samples: list[float], target_us: float | None = None) -> None:
    p50, p95, p99 = percentiles(samples)
    verdict = ""
    if target_us is not None:
        verdict = "  OK" if p95 < target_us else f"  ABOVE TARGET ({target_us:.0f} µs)"
    print(f"{name:<38} p50 {p50:9.1f} µs   p95 {p95:9.1f} µs   p99 {p99:9.1f} µs{verdict}")


def cold_conjugation(i: int) -> object:
    conjugation._simple.cache_clear()
    conjugation.conjugate_table.cache_clear()
    return conjugation.conjugate(VERBS[i % len(VERBS)])


def _subprocess(code: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


IMPORT_CODE = """
import json, time
t0 = time.perf_counter()
import espaluz.spanish.conjugation, espaluz.spanish.phonetics, espaluz.spanish.corrections
import espaluz.spanish.drills, espaluz.spanish.placement, espaluz.spanish.commands
print(json.dumps({"import_ms": (time.perf_counter() - t0) * 1000}))
"""

MEMORY_CODE = """
import json, resource, tracemalloc
tracemalloc.start()
import espaluz.spanish.conjugation, espaluz.spanish.phonetics, espaluz.spanish.corrections
import espaluz.spanish.drills, espaluz.spanish.placement
after_import = tracemalloc.get_traced_memory()[0]
espaluz.spanish.corrections.check("Yo tiene un perro.")
espaluz.spanish.phonetics.minimal_pairs("pero")
espaluz.spanish.drills.all_drills()
after_warm = tracemalloc.get_traced_memory()[0]
print(json.dumps({"import_kib": after_import / 1024, "warm_kib": after_warm / 1024,
                  "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    rng = random.Random(0)
    # warm the lazy tables once (verb index, noun table, drill bank, minimal-pair index)
    t0 = time.perf_counter()
    corrections.check(MESSAGES[0])
    drills.all_drills()
    phonetics.minimal_pairs("pero")
    print(f"first-use build of lazy tables: {(time.perf_counter() - t0) * 1000:.0f} ms\n")

    report("conjugate(verb), cold caches", measure(cold_conjugation, 400))
    for v in VERBS:
        conjugation.conjugate(v)
    report("conjugate(verb), cached", measure(lambda i: conjugation.conjugate(VERBS[i % len(VERBS)]), 5000))

    pool = drills.all_drills()
    pairs = [(rng.choice(pool), rng.choice(ANSWERS)) for _ in range(5000)]
    for d, a in pairs:
        drills.check_answer(d, a, "rioplatense")
    report("check_answer(drill, answer)", measure(lambda i: drills.check_answer(*pairs[i]), 5000), 100)

    words = [len(m.split()) for m in MESSAGES]
    report(
        f"check(message of ~{sum(words) // len(words)} words)",
        measure(lambda i: corrections.check(MESSAGES[i % len(MESSAGES)]), 2000),
        2000,
    )

    uncached = phonetics.g2p.__wrapped__
    report(
        "g2p(word), uncached",
        measure(lambda i: uncached(WORDS[i % len(WORDS)], "spain" if i % 2 else "latam"), 5000),
        100,
    )
    report("minimal_pairs(word)", measure(lambda i: phonetics.minimal_pairs(WORDS[i % 6]), 2000))

    imports = [_subprocess(IMPORT_CODE)["import_ms"] for _ in range(5)]
    print(
        f"\nimport of espaluz.spanish (6 modules, fresh process): median {statistics.median(imports):.1f} ms",
        end="",
    )
    print("  OK" if statistics.median(imports) < 200 else "  ABOVE TARGET (200 ms)")
    mem = _subprocess(MEMORY_CODE)
    print(
        f"memory: {mem['import_kib']:.0f} KiB traced after import, {mem['warm_kib']:.0f} KiB after "
        f"building lazy tables; process max RSS {mem['maxrss_mib']:.1f} MiB"
    )


if __name__ == "__main__":
    main()
