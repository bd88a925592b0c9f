"""Small formatting helpers shared by the widgets (no Qt, no numpy here: the table imports it at start-up)."""
from __future__ import annotations

import math


def format_time(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss`` from one hour); ``--:--`` for None/NaN/negative."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "--:--"
    s = int(seconds + 1e-6)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_hz(hz: float) -> str:
    if hz >= 1000:
        k = hz / 1000.0
        return f"{k:.0f}k" if abs(k - round(k)) < 0.05 else f"{k:.1f}k"
    return f"{hz:.0f}"


def format_when(timestamp: float | None, now: float | None = None) -> str:
    """A moment in the past, short: ``14:05`` today, ``yesterday``, ``3 days ago`` within a week,
    else the date (``2026-11-02``); ``""`` for None."""
    import time

    if timestamp is None:
        return ""
    now = time.time() if now is None else now
    then, today = time.localtime(timestamp), time.localtime(now)
    days = (time.mktime(today[:3] + (0, 0, 0, 0, 0, -1)) - time.mktime(then[:3] + (0, 0, 0, 0, 0, -1))) / 86400
    days = round(days)
    if days <= 0:
        return time.strftime("%H:%M", then)
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    return time.strftime("%Y-%m-%d", then)
