"""Dates and times are shown in Paris time everywhere: the template filters convert stored
UTC moments (objects or their ISO text), and no template formats a moment by itself."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from patrimoine.web.templating import TEMPLATES_DIR, french_date, french_datetime


def test_filters_show_paris_time() -> None:
    winter = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # 00:30 the next day in Paris
    summer = datetime(2026, 7, 1, 6, 5, tzinfo=UTC)  # 08:05 in Paris
    assert french_datetime(winter) == "16/01/2026 à 00:30"
    assert french_date(winter) == "16/01/2026"
    assert french_datetime(summer.isoformat()) == "01/07/2026 à 08:05"
    assert french_date("2026-07-01T22:10:00+00:00") == "02/07/2026"
    assert french_datetime(datetime(2026, 7, 1, 6, 5)) == "01/07/2026 à 08:05"  # naive: UTC
    assert french_date(date(2026, 3, 1)) == "01/03/2026" and french_date(None) == ""


def test_no_template_formats_a_moment_itself() -> None:
    # A moment's own strftime, or a slice of its ISO text, would show UTC.
    by_hand = re.compile(r"(_at|\.at|modified)(\.strftime\(|\[\d*:\d*\])|datetime_fr\s*\)\[")
    found = [f"{path.relative_to(TEMPLATES_DIR)}:{n}"
             for path in Path(TEMPLATES_DIR).rglob("*.html")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if by_hand.search(line)]
    assert found == []
