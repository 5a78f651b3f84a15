"""The progress report: numbers read from Postgres, a text for the chat and a chart for the image.

- Verbs learned this week: distinct infinitives of the conjugation drills answered right (an accent slip
  counts as right, as in the drills) in the last 7 days. ``drill_attempts`` stores the form, not the verb,
  so the verb comes from the engine's reverse index (``espaluz.spanish.verb_index``), disambiguated by
  the infinitive named in the prompt (*fui* is *ser* or *ir*).
- Words this week: distinct words of the answers given right in the last 7 days.
- Accuracy by skill: right / all answers per skill over the last 30 days (the most practised skills).
- Streak: consecutive UTC days with at least one turn, ending today (or yesterday: today is not lost
  until it is over).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from psycopg.rows import dict_row

from espaluz.tutor.commands.chart import MAX_BARS, accuracy_chart
from espaluz.tutor.commands.texts import inline, tr
from espaluz.tutor.ledger import OWN_TURNS_SQL

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

WEEK = timedelta(days=7)
ACCURACY_WINDOW = timedelta(days=30)
STREAK_LOOKBACK_DAYS = 400
CHART_BARS = 6

TENSE_NAMES = {
    "indicative.present": "presente",
    "indicative.preterite": "indefinido",
    "indicative.imperfect": "imperfecto",
    "indicative.future": "futuro",
    "indicative.present_perfect": "pretérito perfecto",
    "indicative.pluperfect": "pluscuamperfecto",
    "conditional.present": "condicional",
    "subjunctive.present": "subjuntivo presente",
    "subjunctive.imperfect": "subjuntivo imperfecto",
    "imperative.affirmative": "imperativo",
    "imperative.negative": "imperativo negativo",
}
_WORD = re.compile(r"[a-záéíóúüñ]+")


@dataclass(frozen=True, slots=True)
class SkillStat:
    skill: str
    attempts: int
    right: int

    @property
    def accuracy(self) -> float:
        return self.right / self.attempts if self.attempts else 0.0

    @property
    def label(self) -> str:
        return skill_label(self.skill)


@dataclass(frozen=True, slots=True)
class Progress:
    verbs_week: tuple[str, ...]
    words_week: int
    answers_week: int
    right_week: int
    skills: tuple[SkillStat, ...]  # most practised first
    streak_days: int
    active_days_week: int

    def to_json(self) -> dict[str, Any]:
        return {
            "verbs_week": list(self.verbs_week),
            "words_week": self.words_week,
            "answers_week": self.answers_week,
            "right_week": self.right_week,
            "skills": [
                {"skill": s.skill, "attempts": s.attempts, "right": s.right, "accuracy": round(s.accuracy, 3)}
                for s in self.skills
            ],
            "streak_days": self.streak_days,
            "active_days_week": self.active_days_week,
        }


def skill_label(skill: str) -> str:
    """A short Spanish name for a skill id (``conjugation:indicative.present`` -> ``presente``)."""
    head, _, tail = skill.partition(":")
    if head == "conjugation" and tail:
        return TENSE_NAMES.get(tail, tail.split(".")[-1].replace("_", " "))
    if head == "pron" and tail:
        return f"sonido [{tail}]"
    if head == "gp" and tail:  # a grammar point of the course
        from espaluz.curriculum.syllabus import load

        point = load().points.get(tail)
        return point.title["es"] if point else tail.replace("_", " ")
    if head == "word" and tail:
        return f"«{tail}»"
    return skill.replace("_", " ").replace(":", " ")


def is_conjugation(skill: str) -> bool:
    from espaluz.spanish.drill_bank import CONJUGATION

    return skill.startswith("conjugation") or skill in CONJUGATION


def verb_of(prompt: str, form: str) -> str | None:
    """The infinitive behind a correctly given ``form``, preferring the one the prompt names."""
    from espaluz.spanish.verb_index import readings

    verbs = sorted({r.verb for r in readings(form.strip().lower())})
    if not verbs:
        return None
    named = [v for v in verbs if re.search(rf"(?<![a-záéíóúñ]){re.escape(v)}(?![a-záéíóúñ])", prompt.lower())]
    return (named or verbs)[0]


def load(conn: psycopg.Connection[Any], learner_id: UUID, now: datetime | None = None) -> Progress:
    """The learner's numbers at ``now``: counts are aggregated in Postgres, so a heavy month costs the
    same few round trips; only the week's distinct right answers come back to find verbs and words."""
    now = now or datetime.now(UTC)
    week_start = now - WEEK
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT skill, count(*) AS attempts,
                      count(*) FILTER (WHERE verdict IN ('correct', 'accent')) AS right,
                      count(*) FILTER (WHERE created_at >= %(week)s) AS attempts_week,
                      count(*) FILTER (WHERE created_at >= %(week)s
                                         AND verdict IN ('correct', 'accent')) AS right_week
               FROM drill_attempts
               WHERE learner_id = %(id)s AND created_at >= %(since)s AND created_at <= %(now)s
               GROUP BY skill""",
            {"id": learner_id, "week": week_start, "since": now - ACCURACY_WINDOW, "now": now},
        )
        per_skill = cur.fetchall()
        cur.execute(
            """SELECT DISTINCT skill, prompt,
                      CASE WHEN verdict = 'accent' THEN split_part(expected, '|', 1) ELSE answer END AS form
               FROM drill_attempts
               WHERE learner_id = %s AND created_at >= %s AND created_at <= %s
                 AND verdict IN ('correct', 'accent')
               LIMIT 5000""",
            (learner_id, week_start, now),
        )
        right_week = cur.fetchall()

    verbs: set[str] = set()
    words: set[str] = set()
    for a in right_week:
        words.update(_WORD.findall(a["form"].lower()))
        if is_conjugation(a["skill"]) and (verb := verb_of(a["prompt"], a["form"])):
            verbs.add(verb)
    skills = sorted(
        (SkillStat(r["skill"], int(r["attempts"]), int(r["right"])) for r in per_skill),
        key=lambda s: (-s.attempts, s.skill),
    )
    days = active_days(conn, learner_id, now)
    today = now.astimezone(UTC).date()
    return Progress(
        verbs_week=tuple(sorted(verbs)),
        words_week=len(words),
        answers_week=sum(int(r["attempts_week"]) for r in per_skill),
        right_week=sum(int(r["right_week"]) for r in per_skill),
        skills=tuple(skills),
        streak_days=streak(days, today),
        active_days_week=sum(1 for d in days if today - timedelta(days=6) <= d <= today),
    )


def active_days(
    conn: psycopg.Connection[Any], learner_id: UUID, now: datetime, zone: str = "UTC"
) -> set[date]:
    """The days (in ``zone``) on which the learner wrote, over the streak's look-back: their own messages,
    not the notices or proactive messages the tutor sent first (turns of the ledger too)."""
    rows = conn.execute(
        f"""SELECT DISTINCT (received_at AT TIME ZONE %s)::date FROM turns
            WHERE learner_id = %s AND received_at >= %s AND received_at <= %s AND {OWN_TURNS_SQL}""",  # noqa: S608
        (zone, learner_id, now - timedelta(days=STREAK_LOOKBACK_DAYS), now),
    ).fetchall()
    return {r[0] for r in rows}


def streak(days: set[date], today: date) -> int:
    """Consecutive days in ``days`` ending today, or yesterday when today has none yet."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def report(progress: Progress, language: str, unit: str = "") -> str:
    """The chat message (well under 1024 characters: it may carry buttons); ``unit``: the learner's unit,
    its goals and what is due (``espaluz.tutor.exercise.unit_status``), shown first."""
    lines = [inline(language, "📊 *Tu progreso*", "your progress")]
    if unit:
        lines.append(unit + "\n")
    fire = " 🔥" if progress.streak_days >= 3 else ""
    days = "día seguido" if progress.streak_days == 1 else "días seguidos"
    lines.append(
        inline(
            language,
            f"• Racha: *{progress.streak_days}* {days}{fire}",
            "days in a row",
        )
    )
    lines.append(
        inline(language, f"• Días activos esta semana: *{progress.active_days_week}*/7", "active days")
    )
    if progress.answers_week:
        pct = round(100 * progress.right_week / progress.answers_week)
        lines.append(
            inline(language, f"• Respuestas esta semana: *{progress.answers_week}* ({pct}% bien)", "answers")
        )
    verbs = progress.verbs_week
    shown = ", ".join(verbs[:8]) + ("…" if len(verbs) > 8 else "")
    lines.append(
        inline(language, f"• Verbos aprendidos esta semana: *{len(verbs)}*", "verbs learned")
        + (f": {shown}" if verbs else "")
    )
    lines.append(inline(language, f"• Palabras usadas bien: *{progress.words_week}*", "words, this week"))
    if progress.skills:
        lines.append("\n" + inline(language, "*Aciertos por tema (30 días):*", "accuracy by topic"))
        for i, s in enumerate(progress.skills[: CHART_BARS // 2 if unit else CHART_BARS], 1):
            lines.append(f"{i}. {s.label}: {round(100 * s.accuracy)}% ({s.right}/{s.attempts})")
    else:
        lines.append(
            "\n"
            + tr(
                language,
                "Aún no hay ejercicios para medir. ¡Escribe *practicar* y empezamos!",
                "No exercises yet to measure: write *practicar* to start.",
            )
        )
    text = "\n".join(lines)
    return text if len(text) <= 1000 else text[:999] + "…"


def chart(progress: Progress) -> tuple[bytes, str] | None:
    """The accuracy-by-skill chart and its caption (the bar numbers explained), or None without data."""
    skills = progress.skills[: min(CHART_BARS, MAX_BARS)]
    if not skills:
        return None
    caption = "Aciertos por tema (30 días): " + " · ".join(
        f"{i} {s.label} {round(100 * s.accuracy)}%" for i, s in enumerate(skills, 1)
    )
    return accuracy_chart([s.accuracy for s in skills]), caption[:1024]
