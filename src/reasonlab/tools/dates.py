"""Date arithmetic tools: add to a date, count between dates, weekday of a date."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from .registry import ToolError, tool

_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%B %d, %Y", "%B %d %Y", "%b %d, %Y", "%b %d %Y",
            "%d %B %Y", "%d %b %Y", "%m/%d/%Y")
_UNITS = ("days", "weeks", "months", "years")


def parse_date(text: str) -> dt.date:
    """A date from ISO (2024-03-01) or common English forms ("March 1, 2024", "1 Mar 2024", "03/01/2024")."""
    t = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", str(text).strip())
    if t.lower() == "today":
        return dt.date.today()
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    raise ToolError(f"cannot read the date {text!r}; use YYYY-MM-DD")


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    if not 1 <= year <= 9999:
        raise ToolError("date out of range")
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@tool(name="date_add")
def date_add(date: str, days: int = 0, weeks: int = 0, months: int = 0, years: int = 0) -> str:
    """Add (or, with negative numbers, subtract) days, weeks, months and years to a date; returns YYYY-MM-DD and the weekday."""
    d = _add_months(parse_date(date), int(months) + 12 * int(years))
    try:
        d = d + dt.timedelta(days=int(days), weeks=int(weeks))
    except OverflowError:
        raise ToolError("date out of range") from None
    return f"{d.isoformat()} ({d.strftime('%A')})"


@tool(name="date_diff")
def date_diff(start: str, end: str, unit: str = "days") -> str:
    """How many days (or weeks, months, years: whole ones) from the start date to the end date."""
    a, b = parse_date(start), parse_date(end)
    unit = unit.lower().strip()
    if unit not in _UNITS and unit + "s" not in _UNITS:
        raise ToolError(f"unit must be one of {', '.join(_UNITS)}")
    unit = unit if unit in _UNITS else unit + "s"
    days = (b - a).days
    if unit == "days":
        return str(days)
    if unit == "weeks":
        return str(days // 7) if days >= 0 else str(-((-days) // 7))
    sign = 1 if b >= a else -1
    lo, hi = (a, b) if sign > 0 else (b, a)
    months = (hi.year - lo.year) * 12 + hi.month - lo.month - (1 if hi.day < lo.day else 0)
    return str(sign * (months if unit == "months" else months // 12))


@tool(name="weekday")
def weekday(date: str) -> str:
    """The day of the week of a date, e.g. "Friday"."""
    return parse_date(date).strftime("%A")
