"""Checks of an upload's county and as-of date, made before a run is created.

- **County.** A run for a county the file does not hold fails only after the whole file has
  been read and decided. The reader's check of the first megabyte (`check_doj_file`) already
  lists the counties of the court events it read; when the chosen county is among them the
  upload goes on at once. When it is not (a statewide file sorted by county, say) the whole
  file is searched for the county's name, any case, any spacing; a file that never names it
  is refused, naming the counties that were found. A file that names it somewhere goes on:
  the run's own check is the final word, this one only saves a wasted run.
- **As-of date.** Relief under HS 11361.8 exists from 2016-11-09 (Proposition 64 in effect);
  a date before it, or after today, is almost always a typing slip (1990 for 2019). Such a
  date is refused until the user confirms that exact date.
"""

from __future__ import annotations

import re
import zlib
from datetime import date
from pathlib import Path

from clearance.records.chunks import ReadError, open_binary
from clearance.web.uploads import SCAN_BLOCK, UploadRefused

#: The day Proposition 64 took effect: no relief under HS 11361.8 before it.
PROP_64_EFFECTIVE = date(2016, 11, 9)
#: Counties named in a refusal, at most.
MAX_NAMED = 12


def county_pattern(county: str) -> re.Pattern[bytes]:
    """The county's name as it may be written in a file: upper case (the search upper-cases
    the file), words separated by spaces, dashes or underscores, not inside a longer word."""
    words = [re.escape(word.upper().encode("ascii")) for word in re.split(r"[\s_\-]+", county)]
    return re.compile(rb"(?<![A-Z])" + rb"[\s_\-]+".join(words) + rb"(?![A-Z])")


def file_names_county(path: Path, county: str) -> bool:
    """Whether the file (decompressed when gzip) holds the county's name anywhere; read one
    block at a time, with an overlap so a name across two blocks is found."""
    pattern = county_pattern(county)
    # The regular expression (with its look-behind) is slow over megabytes; a plain search for
    # the first word is fast, so the expression runs only on blocks that hold that word.
    first = re.split(r"[\s_\-]+", county.strip())[0].upper().encode("ascii")
    overlap = len(county) * 4 + 16
    tail = b""
    try:
        stream, raw = open_binary(path)
        with raw, stream:
            while block := stream.read(SCAN_BLOCK):
                window = tail + block.upper()
                if first in window and pattern.search(window):
                    return True
                tail = window[-overlap:]
    except (OSError, EOFError, zlib.error, ReadError):
        return True  # unreadable files are refused by the read-through check, with its message
    return False


def check_county(path: Path, display_name: str, county: str, seen: list[str]) -> None:
    """Refuse the upload when the file does not hold `county` (`seen`: the counties of the
    court events the format check read)."""
    wanted = re.sub(r"[\s_\-]+", " ", county).strip().upper()
    if wanted in seen or file_names_county(path, county):
        return
    if seen:
        named = ", ".join(c.title() for c in seen[:MAX_NAMED])
        more = f" and {len(seen) - MAX_NAMED} more" if len(seen) > MAX_NAMED else ""
        found = f"its court records are from {named}{more}"
    else:
        found = "no court record in its first rows names a county"
    raise UploadRefused(
        f"{display_name}: {county} does not appear in this file ({found}). Choose the county "
        "the file is for, or upload the file of this county. Nothing was stored."
    )


def as_of_warning(as_of: date, today: date) -> str | None:
    """Why an as-of date needs confirming, or None when it is an ordinary one."""
    if as_of < PROP_64_EFFECTIVE:
        return (
            f"The as-of date {as_of.isoformat()} is before Proposition 64 took effect "
            f"({PROP_64_EFFECTIVE.isoformat()}): no conviction can be relieved under HS 11361.8 "
            "as of that day."
        )
    if as_of > today:
        return (
            f"The as-of date {as_of.isoformat()} is in the future (today is "
            f"{today.isoformat()}): sentences and waiting periods would be judged as if that "
            "day had come."
        )
    return None
