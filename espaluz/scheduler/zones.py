"""A learner's timezone from the country code of their phone number, and the local clock.

A learner is put in the main zone of their country (the most populous one where a country has several:
Mexico City, New York, São Paulo...); they can change it in "perfil". Learners known only by a
business-scoped id (no phone number) start in :data:`DEFAULT_ZONE`.

Written here rather than taken from ``phonenumbers``: its timezone lookup needs the full package (23 MB
installed, 19 MB of it geocoding data) in every Lambda bundle, and it answers ``Etc/Unknown`` for Mexican
mobile numbers (checked with phonenumbers 9.0.43 on ``+52 1 55…``), the learners we most want to reach at
the right hour. A country-code table of our own is a few kilobytes and always answers.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "America/Mexico_City"

# Calling code (longest first wins) -> the country's main IANA zone. NANP codes (+1) are split by area
# code where a Spanish-speaking territory has its own.
_ZONES: dict[str, str] = {
    # Spanish-speaking countries and territories
    "34": "Europe/Madrid", "52": "America/Mexico_City", "54": "America/Argentina/Buenos_Aires",
    "56": "America/Santiago", "57": "America/Bogota", "58": "America/Caracas", "51": "America/Lima",
    "53": "America/Havana", "591": "America/La_Paz", "593": "America/Guayaquil", "595": "America/Asuncion",
    "598": "America/Montevideo", "502": "America/Guatemala", "503": "America/El_Salvador",
    "504": "America/Tegucigalpa", "505": "America/Managua", "506": "America/Costa_Rica",
    "507": "America/Panama", "240": "Africa/Malabo", "1787": "America/Puerto_Rico",
    "1939": "America/Puerto_Rico", "1809": "America/Santo_Domingo", "1829": "America/Santo_Domingo",
    "1849": "America/Santo_Domingo",
    # Where many learners of Spanish live
    "1": "America/New_York", "55": "America/Sao_Paulo", "44": "Europe/London", "49": "Europe/Berlin",
    "33": "Europe/Paris", "39": "Europe/Rome", "351": "Europe/Lisbon", "31": "Europe/Amsterdam",
    "32": "Europe/Brussels", "41": "Europe/Zurich", "43": "Europe/Vienna", "46": "Europe/Stockholm",
    "47": "Europe/Oslo", "45": "Europe/Copenhagen", "48": "Europe/Warsaw", "353": "Europe/Dublin",
    "7": "Europe/Moscow", "90": "Europe/Istanbul", "972": "Asia/Jerusalem", "91": "Asia/Kolkata",
    "86": "Asia/Shanghai", "81": "Asia/Tokyo", "82": "Asia/Seoul", "63": "Asia/Manila",
    "61": "Australia/Sydney", "64": "Pacific/Auckland", "27": "Africa/Johannesburg", "234": "Africa/Lagos",
    "20": "Africa/Cairo", "212": "Africa/Casablanca", "971": "Asia/Dubai", "966": "Asia/Riyadh",
    "62": "Asia/Jakarta", "66": "Asia/Bangkok", "84": "Asia/Ho_Chi_Minh", "65": "Asia/Singapore",
    "60": "Asia/Kuala_Lumpur", "509": "America/Port-au-Prince", "592": "America/Guyana",
    "594": "America/Cayenne", "597": "America/Paramaribo", "501": "America/Belize",
}  # fmt: skip


def zone_for(wa_id: str | None) -> str:
    """The main zone of the phone number's country (``wa_id``: digits, optionally with a ``+``), else
    :data:`DEFAULT_ZONE`."""
    digits = (wa_id or "").lstrip("+")
    for length in (4, 3, 2, 1):
        zone = _ZONES.get(digits[:length]) if len(digits) > length else None
        if zone:
            return zone
    return DEFAULT_ZONE


def valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone this machine knows (the ``tzdata`` package ships them)."""
    return name in known_zones()


def local(now: datetime, zone: str | None) -> datetime:
    """``now`` (aware) on the learner's wall clock; an unknown zone reads as :data:`DEFAULT_ZONE`."""
    return now.astimezone(_zone(zone or DEFAULT_ZONE))


@cache
def _zone(name: str) -> ZoneInfo:
    """One ``ZoneInfo`` per zone and container: ``ZoneInfo``'s own cache keeps only a few, and a pass
    reads about 600 zones (the bench measured 124 ms of zone-file reads per pass without this, 3.5 ms
    with it)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


# Names the zone files ship that are no place: the machine's own zone and tzdata's placeholder.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def known_zones() -> frozenset[str]:
    """Every IANA zone a learner may be in (read once per container from the zone files' index)."""
    return frozenset(available_timezones()) - _NOT_PLACES


__all__ = ["DEFAULT_ZONE", "known_zones", "local", "valid_zone", "zone_for"]
