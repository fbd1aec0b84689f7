"""The People's challenge notice (HS 11361.9): the convictions they challenge, with grounds.

Under AB 1793 the prosecution had to tell the court and the public defender which convictions
it challenges, so that the public defender can reach the people concerned. Every conviction the
run decided `not_eligible` is listed once, with the grounds: the explanation lines of the rules
that bar relief, each with its citation and the facts of the record it used (the date and
section of a disqualifying prior, the date of a conviction under the new law).
"""

from __future__ import annotations

import polars as pl

from clearance.outputs.filings.data import FilingInfo, RunData
from clearance.outputs.filings.exhibit import Exhibit
from clearance.outputs.filings.model import Block, LegalDocument, esc
from clearance.outputs.filings.motion import people_signature, pleading


def challenge_document(run: RunData, filing: FilingInfo, exhibit: Exhibit) -> LegalDocument:
    """The notice to the court and the public defender, Exhibit A listing the challenges."""
    county = esc(run.county_title)
    n, people = exhibit.frame.height, exhibit.people
    in_review = run.convictions.filter(
        (pl.col("decision") == "review") & (pl.col("county") == run.county)
    ).height
    blocks: list[Block] = [
        Block(
            "plain",
            f"TO THE {esc(filing.court_name.upper())} AND TO THE PUBLIC DEFENDER OF "
            f"{county.upper()} COUNTY:",
        )
    ]
    if n:
        blocks.append(
            Block(
                "para",
                "Under Health and Safety Code section 11361.9 the People inform the Court and "
                "the Public Defender that they challenge the recall or dismissal of sentence, "
                "dismissal and sealing, or redesignation of each conviction listed in Exhibit A "
                f"({n:,} conviction{'s' if n != 1 else ''} of {people:,} "
                f"person{'s' if people != 1 else ''}), on the grounds stated beside each.",
            )
        )
    else:
        blocks.append(
            Block(
                "para",
                "Under Health and Safety Code section 11361.9 the People inform the Court and "
                "the Public Defender that they challenge none of the convictions identified for "
                f"{county} County.",
            )
        )
    policy = run.summary.get("policy", {})
    blocks += [
        Block(
            "para",
            "The People reviewed every cannabis conviction in the records the Department of "
            f"Justice provided for {county} County, applying the statute and the office's "
            f"written policy ({esc(policy.get('title', run.policy.title))}) as of "
            f"{run.as_of.isoformat()}. Each ground names the rule of the statute or of the "
            "policy that bars relief, its citation, and the facts of the record it rests on. "
            "For a person who has completed the sentence the People challenge eligibility "
            "only; eligibility is presumed, and the People bear the burden of proving each "
            "ground by clear and convincing evidence.",
        ),
        Block(
            "para",
            "The Public Defender is asked to make a reasonable effort to notify each person "
            "whose relief is challenged, as section 11361.9 provides. The People do not "
            "challenge the convictions listed in their motions for dismissal and sealing, "
            "redesignation, and recall and resentencing filed with this notice.",
        ),
    ]
    if in_review:
        blocks.append(
            Block(
                "para",
                f"A further {in_review:,} conviction{'s' if in_review != 1 else ''} "
                f"remain{'s' if in_review == 1 else ''} under review by the People, who will "
                "inform the Court and the Public Defender of their position on each.",
            )
        )
    blocks.append(people_signature(filing))
    return pleading(
        filing,
        title="PEOPLE'S NOTICE OF CHALLENGE TO RELIEF FOR CANNABIS CONVICTIONS",
        short_title="Notice of challenge (HS 11361.9)",
        blocks=blocks,
        exhibit=exhibit if n else None,
        keywords=("Proposition 64", "HS 11361.9", "challenge"),
    )
