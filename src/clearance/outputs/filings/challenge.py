"""The People's challenge notice (HS 11361.9): the convictions they challenge, each with its
ground, a request for hearing, the declaration, and the proof of service on the Public
Defender.

Under AB 1793 the prosecution tells the court and the public defender which convictions it
challenges, so that the public defender can reach the people concerned. For a completed
sentence the only ground is eligibility; for a person still serving it may also be an
unreasonable risk of danger to public safety (HS 11361.8(b), defined by PC 1170.18(c)), a
judgment only the office can make, never inferred here (`marks.py`). The public Exhibit A states
each ground by the rule and its citation, never the prior offense or other facts of the record;
those are in Exhibit B, lodged under seal and served on the Public Defender.
"""

from __future__ import annotations

from clearance.outputs.filings.data import FilingInfo, RunData
from clearance.outputs.filings.exhibit import Exhibit
from clearance.outputs.filings.model import Block, LegalDocument, esc
from clearance.outputs.filings.motion import (
    HEARING_LINES,
    counts_text,
    declaration,
    people_signature,
    pleading,
    review_note,
    sealing_application,
)
from clearance.outputs.filings.review import deadline_text

TITLE = "PEOPLE'S NOTICE OF CHALLENGE TO RELIEF FOR CANNABIS CONVICTIONS AND REQUEST FOR HEARING"
SHORT = "Notice of challenge and request for hearing (HS 11361.9)"


def proof_of_service(run: RunData, filing: FilingInfo) -> list[Block]:
    """A proof of service of the notice and both exhibits on the Public Defender."""
    county = esc(run.county_title)
    return [
        Block("heading", "PROOF OF SERVICE"),
        Block(
            "para",
            "I am over the age of 18 years and not a party to this proceeding. My business "
            f"address is {esc(filing.office_address)}.",
        ),
        Block(
            "para",
            "On ____________________, I served the foregoing People's Notice of Challenge to "
            "Relief for Cannabis Convictions and Request for Hearing, with its Exhibit A "
            "and its Exhibit B (confidential, lodged conditionally under seal), on the Public "
            f"Defender of {county} County, at the address below, by the method checked:",
        ),
        Block("item", "personal delivery;", label="[  ]"),
        Block(
            "item",
            "placing a copy in a sealed envelope with postage fully prepaid, in the United "
            "States mail, addressed as below;",
            label="[  ]",
        ),
        Block(
            "item",
            "electronic service (California Rules of Court, rule 2.251) to the electronic "
            "service address below.",
            label="[  ]",
        ),
        Block("plain", f"Public Defender of {county} County"),
        Block("plain", "Address: ______________________________________________________"),
        Block("plain", "Electronic service address: ___________________________________"),
        Block(
            "para",
            "I declare under penalty of perjury under the laws of the State of California that "
            "the foregoing is true and correct.",
        ),
        Block(
            "signature",
            label="Dated: ____________________",
            lines=("(Type or print name of the person who served)",),
        ),
    ]


def challenge_document(
    run: RunData,
    filing: FilingInfo,
    exhibit: Exhibit,
    in_review: dict[str, int],
    public_safety: int,
) -> LegalDocument:
    """The notice to the court and the public defender, Exhibit A listing the challenges.

    `in_review`: convictions still in review per office; `public_safety`: how many rows carry
    the public-safety ground the office asserted."""
    county = esc(run.county_title)
    n, people = exhibit.frame.height, exhibit.people
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
                "the Public Defender that they challenge the relief identified for each "
                f"conviction listed in Exhibit A ({counts_text(n, people)}), on the ground "
                "stated beside each, and request a hearing. Each person and conviction is "
                "identified, by the row numbers of Exhibit A, in Exhibit B, lodged "
                "conditionally under seal and served on the Public Defender.",
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
    blocks += [
        Block("heading", "I. GROUNDS"),
        Block(
            "para",
            "For a person who has completed the sentence, the People may challenge eligibility "
            "only (Health and Safety Code section 11361.8, subdivisions (e) and (f)). For a "
            "person still serving the sentence, they may challenge eligibility or assert that "
            "relief would pose an unreasonable risk of danger to public safety (subdivision "
            "(b); Penal Code section 1170.18, subdivision (c)). Eligibility is presumed; the "
            "People bear the burden of proving each ground by clear and convincing evidence.",
        ),
        Block(
            "para",
            "Each ground in Exhibit A names the rule of the statute or of the office's written "
            "policy that bars relief and its citation. The facts of the record each ground "
            "rests on (the date and section of a prior conviction, the date of an offense) "
            "are in Exhibit B, so that this public notice does not disclose a person's record "
            "beyond what the Court needs to act.",
        ),
    ]
    if public_safety:
        blocks.append(
            Block(
                "para",
                f"For {public_safety:,} conviction{'s' if public_safety != 1 else ''} of persons "
                "still serving, the ground is an unreasonable risk of danger to public safety. "
                "That ground is the People's own assertion, made on the office's review of each "
                "person; the People will present their evidence at the hearing.",
            )
        )
    blocks += [
        Block("heading", "II. REQUEST FOR HEARING"),
        Block(
            "para",
            "The People request that the Court set a hearing on each challenged conviction, on "
            "notice to the Public Defender and to the person, at which the People will present "
            "their evidence and the person may be heard. Until the Court rules, the listed "
            "convictions are not included in the People's motions for relief.",
        ),
        Block("heading", "III. THE PEOPLE'S REVIEW"),
        Block("para", review_note(run)),
        Block(
            "para",
            "The People do not challenge the convictions listed in their motions for relief "
            "filed with this notice.",
        ),
    ]
    pending = sum(in_review.values())
    if pending:
        parts = []
        if in_review.get("district_attorney"):
            parts.append(f"{in_review['district_attorney']:,} by the People")
        if in_review.get("city_attorney"):
            parts.append(
                f"{in_review['city_attorney']:,} by the city attorneys that prosecuted them"
            )
        blocks.append(
            Block(
                "para",
                f"A further {pending:,} conviction{'s' if pending != 1 else ''} "
                f"remain{'s' if pending == 1 else ''} under review ({'; '.join(parts)}). "
                f"{deadline_text(run.as_of)} The People will inform the Court and the Public "
                "Defender of their position on each.",
            )
        )
    if n:
        blocks += sealing_application(n, "IV")
    blocks.append(people_signature(filing))
    blocks += declaration(
        run,
        filing,
        [
            f"This notice lists {counts_text(n, people)} in Exhibit A, each with the ground "
            "the record supports or, where marked, the public-safety ground the office "
            "asserts; Exhibit B gives, for the same row numbers, the facts of the record each "
            "ground rests on.",
        ],
    )
    return pleading(
        filing,
        title=TITLE,
        short_title=SHORT,
        blocks=blocks,
        exhibit=exhibit if n else None,
        keywords=("Proposition 64", "HS 11361.9", "challenge"),
        hearing=HEARING_LINES,
        after=proof_of_service(run, filing),
    )
