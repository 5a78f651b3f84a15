"""The rules every proactive message follows, as settings, and the learner's local clock they read.

- Nothing proactive during the learner's quiet hours (``SCHEDULER_QUIET_HOURS``, 22:00–08:00 local by
  default), nor within ``SCHEDULER_IDLE_MINUTES`` of their last message (a learner mid-conversation is not
  interrupted), nor beyond ``SCHEDULER_DAILY_CAP`` messages in 24 hours, nor to a learner who sent
  STOP/BAJA, nor within ``SCHEDULER_GAP_HOURS`` of the previous proactive message (a follow-up and a
  review due the same afternoon come hours apart, not in consecutive passes). The scheduler's selection
  applies them all; the tutor checks them again when it sends (all but the gap), since a learner may
  write or send STOP in between.
- A slot names what a message is for (a review on a local date, a re-engagement step after a given last
  message): one message per learner, kind and slot, whatever the number of passes that select it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from espaluz.scheduler.zones import known_zones, local

if TYPE_CHECKING:
    from espaluz.config import Settings

Kind = Literal["review", "reminder", "followup", "reengage"]
KINDS: tuple[Kind, ...] = ("followup", "review", "reminder", "reengage")  # a pass's priority order
WINDOW = timedelta(hours=24)
# A free-form message is chosen only while the window stays open this much longer: time for the queue.
WINDOW_MARGIN = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Rules:
    """The scheduler's knobs (settings ``SCHEDULER_*``; see ``espaluz.config``)."""

    quiet_from: int = 22
    quiet_to: int = 8
    daily_cap: int = 2
    gap: timedelta = timedelta(hours=3)  # between two proactive messages to one learner
    idle: timedelta = timedelta(minutes=10)
    review_after: timedelta = timedelta(hours=6)
    reengage_days: tuple[int, ...] = (3, 10)
    batch: int = 5000

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        quiet_from, _, quiet_to = settings.scheduler_quiet_hours.partition("-")
        days = tuple(sorted(int(d) for d in settings.scheduler_reengage_days.split(",") if d.strip()))
        return cls(
            quiet_from=int(quiet_from) % 24,
            quiet_to=int(quiet_to or quiet_from) % 24,
            daily_cap=settings.scheduler_daily_cap,
            gap=timedelta(hours=settings.scheduler_gap_hours),
            idle=timedelta(minutes=settings.scheduler_idle_minutes),
            review_after=timedelta(hours=settings.scheduler_review_after_hours),
            reengage_days=days or (3, 10),
            batch=settings.scheduler_batch,
        )

    def quiet(self, hour: int) -> bool:
        """Whether a local hour is inside the quiet hours (which may wrap past midnight)."""
        if self.quiet_from == self.quiet_to:
            return False
        if self.quiet_from > self.quiet_to:
            return hour >= self.quiet_from or hour < self.quiet_to
        return self.quiet_from <= hour < self.quiet_to

    def awake_zones(self, now: datetime) -> list[str]:
        """The zones where it is not quiet at ``now`` (the selection's filter: no per-row zone math)."""
        return sorted(z for z in known_zones() if not self.quiet(local(now, z).hour))

    def hour_pairs(self, now: datetime) -> tuple[list[str], list[int]]:
        """(zone, local hour) at ``now`` for every zone where it is not quiet, as two parallel lists: the
        learners whose reminder hour is now are those whose (timezone, reminder_hour) is one of them."""
        zones, hours = [], []
        for zone in sorted(known_zones()):
            hour = local(now, zone).hour
            if not self.quiet(hour):
                zones.append(zone)
                hours.append(hour)
        return zones, hours

    def reengage_step(self, silence: timedelta) -> int:
        """Which re-engagement message a silence this long calls for (1-based; 0: none yet)."""
        return sum(silence >= timedelta(days=d) for d in self.reengage_days)


def day_slot(now: datetime, zone: str | None) -> str:
    """The learner's local date at ``now``: the slot of a review or a reminder (one a day)."""
    return local(now, zone).date().isoformat()


def in_window(last_inbound_at: datetime | None, now: datetime, margin: timedelta = WINDOW_MARGIN) -> bool:
    """Whether a free-form message may still go (the 24-hour window stays open ``margin`` longer)."""
    return last_inbound_at is not None and now + margin < last_inbound_at + WINDOW


__all__ = ["KINDS", "WINDOW", "Kind", "Rules", "day_slot", "in_window"]
