"""The words of the bulk motion and proposed order (one set per court and relief group).

The offices that cleared the most convictions filed one motion with an exhibit listing every
case and a proposed order the presiding judge could sign as is (prop64.md section 3). The
motion states the legal basis (HS 11361.8, 11361.9), that the People do not challenge the
listed convictions, and the relief asked: dismissal and sealing, redesignation, or recall and
resentencing for people still serving, each with relief from HS 11590 registration. The order
repeats the findings the statute requires and leaves a line for the judge's signature.

Statutory citations are kept to the subdivisions the law notes confirm (HS 11361.8(a)-(b),
(e)-(f), (h); HS 11361.9 as a whole), so a motion never cites a subdivision that says
something else.
"""

from __future__ import annotations

from collections.abc import Sequence

from clearance.outputs.filings.data import FilingInfo, RunData
from clearance.outputs.filings.exhibit import (
    DISMISS,
    POLICY_MARK,
    REDESIGNATE,
    RELATED_MARK,
    RESENTENCE,
    Exhibit,
    ReliefGroup,
)
from clearance.outputs.filings.model import Block, LegalDocument, esc

STATUTES = "(Health and Safety Code §§ 11361.8, 11361.9)"
PARTIES = (
    "THE PEOPLE OF THE STATE OF CALIFORNIA,",
    "&nbsp;" * 24 + "Plaintiff,",
    "&nbsp;" * 8 + "v.",
    "THE PERSONS LISTED IN EXHIBIT A,",
    "&nbsp;" * 24 + "Defendants.",
)
CASE_LINES = ("Case No.: the cases listed in Exhibit A",)


def filer_lines(
    filing: FilingInfo, role: str = "Attorney for Plaintiff, the People"
) -> tuple[str, ...]:
    """The attorney block at the top left of every pleading (CRC 2.111)."""
    return (
        f"{esc(filing.signer)} (State Bar No. {esc(filing.bar_number)})",
        esc(filing.office),
        esc(role),
    )


def people_signature(filing: FilingInfo) -> Block:
    """The People's signature block: the office, the signing attorney and their bar number."""
    return Block(
        "signature",
        text=f"Respectfully submitted,<br/>{esc(filing.office)}",
        label="Dated: ____________________",
        lines=(
            esc(filing.signer),
            f"State Bar No. {esc(filing.bar_number)}",
            "Attorney for the People",
        ),
    )


def pleading(
    filing: FilingInfo,
    *,
    title: str,
    short_title: str,
    blocks: Sequence[Block],
    exhibit: Exhibit | None,
    keywords: tuple[str, ...],
) -> LegalDocument:
    """A pleading of the bulk proceeding: the filer, the court and the caption every motion,
    order and notice of the People shares, around its own title, body and exhibit."""
    return LegalDocument(
        filer=filer_lines(filing),
        court=filing.court_name,
        court_address=filing.court_address,
        parties=PARTIES,
        case_lines=CASE_LINES,
        title=title,
        title_note=STATUTES,
        short_title=short_title,
        blocks=tuple(blocks),
        exhibit=exhibit,
        author=filing.office,
        keywords=keywords,
    )


def _counts(exhibit: Exhibit) -> str:
    n, p = exhibit.frame.height, exhibit.people
    return f"{n:,} conviction{'s' if n != 1 else ''} of {p:,} person{'s' if p != 1 else ''}"


def _has_related(exhibit: Exhibit) -> bool:
    return bool(exhibit.frame["relief"].str.contains(RELATED_MARK, literal=True).any())


def _has_policy(exhibit: Exhibit) -> bool:
    return bool(exhibit.frame["relief"].str.contains(POLICY_MARK, literal=True).any())


def _review_note(run: RunData) -> str:
    """The basis of the review: what the People looked at, as of when, under which policy."""
    policy = run.summary.get("policy", {})
    title = esc(policy.get("title", run.policy.title))
    return (
        f"The People reviewed every cannabis conviction in the records the Department of "
        f"Justice provided for {esc(run.county_title)} County under Health and Safety Code "
        f"section 11361.9, applying the statute and the office's written policy ({title}) as of "
        f"{run.as_of.isoformat()}."
    )


def _legal_basis(group: ReliefGroup) -> list[Block]:
    blocks = [
        Block(
            "para",
            "Proposition 64, the Control, Regulate and Tax Adult Use of Marijuana Act, took "
            "effect on November 9, 2016. It made lawful much of the conduct formerly punished "
            "under Health and Safety Code sections 11357 through 11360 and made most of the rest "
            "misdemeanors or infractions. Health and Safety Code section 11361.8 provides relief "
            "for convictions for conduct before that date: a person currently serving a "
            "sentence may have the sentence recalled and be resentenced or have the conviction "
            "dismissed (subdivisions (a)-(b)); a person who has completed the sentence may have "
            "the conviction dismissed and sealed as legally invalid or redesignated as a "
            "misdemeanor or infraction (subdivisions (e)-(f)). Eligibility is presumed unless "
            "the party opposing relief proves otherwise by clear and convincing evidence.",
        ),
        Block(
            "para",
            "Health and Safety Code section 11361.9, enacted by Assembly Bill 1793 (2018), "
            "requires the Department of Justice to identify the past convictions potentially "
            "eligible for relief and to notify the prosecution, and requires the prosecution to "
            "inform the court and the public defender of the cases it challenges and to inform "
            "the court of the cases it does not challenge. When the prosecution does not "
            "challenge relief, the court shall reduce or dismiss the conviction under section "
            "11361.8 and notify the Department of Justice, which updates the state summary "
            "criminal history.",
        ),
    ]
    if group is REDESIGNATE or group is RESENTENCE:
        blocks.append(
            Block(
                "para",
                "A felony conviction recalled and resentenced under section 11361.8, "
                "subdivision (b), or redesignated under subdivision (f), is a misdemeanor or "
                "infraction for all purposes (Health and Safety Code section 11361.8, "
                "subdivision (h)).",
            )
        )
    return blocks


def _policy_notes(exhibit: Exhibit, run: RunData) -> list[Block]:
    """Dismissals the office's policy asks for beyond the statute, and related charges."""
    blocks = []
    if _has_policy(exhibit):
        blocks.append(
            Block(
                "para",
                f'Convictions marked "{POLICY_MARK}" in Exhibit A are convictions the statute '
                "alone would recall and resentence or redesignate; the office's written policy "
                f"({esc(run.policy.source)}) asks that they be dismissed. As to those, the People "
                "move for dismissal in furtherance of justice under Penal Code section 1385 and "
                "for sealing of the record.",
            )
        )
    if _has_related(exhibit):
        blocks.append(
            Block(
                "para",
                f'Exhibit A also lists, marked "{RELATED_MARK}", convictions in the same '
                "arrest cycle as a relieved cannabis conviction that the office's policy "
                f"dismisses ({esc(run.policy.source)}). As to those, the People move for "
                "dismissal in furtherance of justice under Penal Code section 1385.",
            )
        )
    return blocks


def _marked(exhibit: Exhibit) -> bool:
    return _has_policy(exhibit) or _has_related(exhibit)


def _relief_items(group: ReliefGroup, court: str, ordered: bool, marked: bool) -> list[str]:
    """The numbered relief: asked for in the motion, ordered in the order. `marked`: the
    exhibit holds dismissals under Penal Code section 1385 (office policy, related charges)."""
    verb = "is" if ordered else "be"
    each = "each conviction listed in Exhibit A"
    pc1385 = (
        f' A conviction marked "{POLICY_MARK}" or "{RELATED_MARK}" {verb} dismissed in '
        "furtherance of justice (Penal Code section 1385)."
        if marked
        else ""
    )
    if group is DISMISS:
        first = (
            f"{each[0].upper()}{each[1:]} {verb} dismissed and the record of the conviction "
            "sealed (Health and Safety Code section 11361.8, subdivision (f))." + pc1385
        )
    elif group is REDESIGNATE:
        first = (
            f"{each[0].upper()}{each[1:]} {verb} redesignated to the level shown in the column "
            '"Level after", a misdemeanor or infraction for all purposes (Health and Safety '
            "Code section 11361.8, subdivisions (f) and (h))."
        )
    else:
        first = (
            f"The sentence on {each} {verb} recalled, and the conviction {verb} dismissed and "
            'sealed or the person resentenced to the level shown in the column "Level after" '
            "(Health and Safety Code section 11361.8, subdivision (b)), with credit for any "
            "time already served." + pc1385
        )
    return [
        first,
        f"Each person listed in Exhibit A {verb} relieved of any duty to register under Health "
        "and Safety Code section 11590 arising from a listed conviction.",
        f"The clerk of the {esc(court)} {'shall' if ordered else 'be directed to'} update the "
        "court's records of each listed case and report the disposition to the Department of "
        "Justice so that the state summary criminal history information is updated (Health "
        "and Safety Code section 11361.9).",
    ]


def motion_document(
    run: RunData, filing: FilingInfo, group: ReliefGroup, exhibit: Exhibit
) -> LegalDocument:
    """The People's bulk motion for one relief group in one court, Exhibit A attached."""
    court = filing.court_name
    blocks: list[Block] = [
        Block("plain", f"TO THE HONORABLE PRESIDING JUDGE OF THE {esc(court.upper())}:"),
        Block(
            "para",
            f"PLEASE TAKE NOTICE that the People of the State of California, by "
            f"{esc(filing.office)}, move the Court for an order under Health and Safety Code "
            f"sections 11361.8 and 11361.9 {group.request} each conviction listed in Exhibit A "
            f"({_counts(exhibit)}), and relieving each listed person of any resulting duty to "
            "register under Health and Safety Code section 11590. Relief is requested without "
            "a hearing: the People do not challenge it.",
        ),
        Block("heading", "I. LEGAL BASIS"),
        *_legal_basis(group),
        Block("heading", "II. THE PEOPLE DO NOT CHALLENGE THE LISTED CONVICTIONS"),
        Block("para", _review_note(run)),
    ]
    if group is RESENTENCE:
        blocks.append(
            Block(
                "para",
                "Each person listed is currently serving the sentence for the listed "
                "conviction. The People do not challenge eligibility and do not contend that "
                "any listed person would pose an unreasonable risk of danger to public safety "
                "within the meaning of section 11361.8, subdivision (b).",
            )
        )
    blocks += [
        Block(
            "para",
            "Under Health and Safety Code section 11361.9 the People inform the Court that they "
            f"do not challenge the {group.title.lower()} of any conviction listed in Exhibit A. "
            "Each is a conviction for conduct before November 9, 2016 that the statute, or the "
            "office's policy, relieves as shown. The convictions the People challenge are "
            "listed in their separate notice to the Court and the public defender.",
        ),
        *_policy_notes(exhibit, run),
        Block("heading", "III. RELIEF REQUESTED"),
        Block("plain", "The People respectfully request an order that:"),
    ]
    blocks += [
        Block("item", text, label=f"{i}.")
        for i, text in enumerate(
            _relief_items(group, court, ordered=False, marked=_marked(exhibit)), start=1
        )
    ]
    blocks.append(people_signature(filing))
    return pleading(
        filing,
        title=group.motion_title,
        short_title=f"Motion: {group.title} of cannabis convictions (HS 11361.8, 11361.9)",
        blocks=blocks,
        exhibit=exhibit,
        keywords=("Proposition 64", "HS 11361.8", "HS 11361.9", group.key),
    )


def order_document(
    run: RunData, filing: FilingInfo, group: ReliefGroup, exhibit: Exhibit
) -> LegalDocument:
    """The proposed order for the judge's signature, with the same Exhibit A."""
    court = filing.court_name
    findings = [
        "Each conviction listed in Exhibit A is a conviction for conduct before November 9, "
        "2016 identified for relief under Health and Safety Code section 11361.9.",
        "The People do not challenge the relief, and no party has shown by clear and "
        "convincing evidence that any listed person does not satisfy the criteria of Health "
        "and Safety Code section 11361.8.",
    ]
    if group is DISMISS:
        findings.append(
            "The conduct underlying each listed conviction not marked "
            f'"{POLICY_MARK}" or "{RELATED_MARK}" is now lawful, and each such conviction '
            "is legally invalid (Health and Safety Code section 11361.8, subdivision (f))."
        )
    elif group is REDESIGNATE:
        findings.append(
            "Each listed person has completed the sentence, and the conduct underlying each "
            "listed conviction is now punishable only at the level shown in the column "
            '"Level after".'
        )
    else:
        findings.append(
            "Each listed person is currently serving the sentence for the listed conviction "
            "and does not pose an unreasonable risk of danger to public safety within the "
            "meaning of Health and Safety Code section 11361.8, subdivision (b)."
        )
    if _has_related(exhibit):
        findings.append(
            'Dismissal of each conviction marked "related charge" is in furtherance of '
            "justice (Penal Code section 1385)."
        )
    blocks: list[Block] = [
        Block(
            "para",
            "The Court has read and considered the People's motion under Health and Safety "
            f"Code sections 11361.8 and 11361.9 concerning {_counts(exhibit)} listed in Exhibit "
            "A, attached and incorporated by reference. Good cause appearing,",
        ),
        Block("heading", "THE COURT FINDS:"),
        *[Block("item", text, label=f"{i}.") for i, text in enumerate(findings, start=1)],
        Block("heading", "IT IS ORDERED:"),
        *[
            Block("item", text, label=f"{i}.")
            for i, text in enumerate(
                _relief_items(group, court, ordered=True, marked=_marked(exhibit)), start=1
            )
        ],
        Block(
            "signature",
            label="Dated: ____________________",
            lines=("Judge of the Superior Court",),
        ),
    ]
    return pleading(
        filing,
        title=group.order_title,
        short_title=f"Order: {group.title} of cannabis convictions (HS 11361.8, 11361.9)",
        blocks=blocks,
        exhibit=exhibit,
        keywords=("Proposition 64", "HS 11361.8", "HS 11361.9", group.key, "order"),
    )
