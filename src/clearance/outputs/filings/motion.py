"""The words of the bulk motions, proposed orders and notices (one set per court and relief
group), the People's declaration of how the review was done, and Exhibit B's cover.

The offices that cleared the most convictions filed one motion with an exhibit listing every
case and a proposed order the presiding judge could sign as is (prop64.md section 3). Each
motion here rests on one authority and states only that one (see `groups.py`): the statute's
dismissal and sealing, its redesignation, its recall and resentencing, or the authority the
office's policy names for dismissals beyond the statute. Public text carries counts and case
numbers only; who each person is goes in Exhibit B, lodged conditionally under seal, and the
motion carries the application that rules 2.550-2.551 require for it.

Citations are kept to what the law notes confirm: HS 11361.8 by subdivision ((a)-(h)), HS
11361.9 as a whole (added by AB 1793 (2018), amended by AB 1706 (2022)), PC 1385, 1203.4, 1203.4a,
1203.41, 1203.42, PC 1170.18(c), People v. Chavez (2018) 4 Cal.5th 771, and the Rules of Court.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl

from clearance.law.rule import Rule
from clearance.outputs.filings.data import FilingInfo, RunData
from clearance.outputs.filings.exhibit import Exhibit
from clearance.outputs.filings.groups import (
    DISMISS_SEAL,
    POLICY_1385,
    RECALL,
    REDESIGNATE,
    RELATED_1203,
    RELATED_1385,
    ReliefGroup,
)
from clearance.outputs.filings.model import Block, Caption, LegalDocument, esc

STATUTES = "(Health and Safety Code §§ 11361.8, 11361.9)"
NB = "&nbsp;"
PARTIES = (
    "THE PEOPLE OF THE STATE OF CALIFORNIA,",
    NB * 30 + "Plaintiff,",
    NB * 12 + "v.",
    "THE DEFENDANTS IN THE CASES LISTED IN EXHIBIT A,",
    NB * 30 + "Defendants.",
)
CASE_LINES = ("Case Nos.: the cases listed in Exhibit A",)
HEARING_LINES = ("Date: ____________________", "Time: ____________________",
                 "Dept.: ____________________")  # fmt: skip
NO_HEARING = ("No hearing required (Health and Safety Code §§ 11361.8(g), 11361.9)",)
#: HS 11361.9 dates (AB 1793, AB 1706).
CHALLENGE_DEADLINE = date(2020, 7, 1)
ORDER_DEADLINE = date(2023, 3, 1)
DOJ_DEADLINE = date(2023, 7, 1)


def filer_lines(
    filing: FilingInfo, role: str = "Attorney for Plaintiff, the People"
) -> tuple[str, ...]:
    """Lines 1-7 of the first page (rule 2.111(1)): name and bar number, office, address,
    telephone, email, for whom."""
    return (
        f"{esc(filing.signer)} (State Bar No. {esc(filing.bar_number)})",
        esc(filing.office),
        esc(filing.office_address),
        f"Telephone: {esc(filing.phone)}",
        f"Email: {esc(filing.email)}",
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


def judge_signature() -> Block:
    return Block(
        "signature",
        label="Dated: ____________________",
        lines=("Judge of the Superior Court",),
    )


def pleading(
    filing: FilingInfo,
    *,
    title: str,
    short_title: str,
    blocks: Sequence[Block],
    exhibit: Exhibit | None,
    keywords: tuple[str, ...],
    hearing: tuple[str, ...] = (),
    after: Sequence[Block] = (),
    confidential: bool = False,
) -> LegalDocument:
    """A pleading of the bulk proceeding: the filer, the court and the caption every motion,
    order and notice of the People shares, around its own title, body and exhibit."""
    return LegalDocument(
        caption=Caption(
            filer=filer_lines(filing),
            court=filing.court_name,
            court_address=filing.court_address,
            parties=PARTIES,
            case_lines=CASE_LINES,
            title=title,
            title_note=STATUTES,
            hearing=hearing,
        ),
        short_title=short_title,
        blocks=tuple(blocks),
        exhibit=exhibit,
        after=tuple(after),
        author=filing.office,
        keywords=keywords,
        confidential=confidential,
    )


def counts_text(n: int, people: int) -> str:
    return (
        f"{n:,} conviction{'s' if n != 1 else ''} of {people:,} person{'s' if people != 1 else ''}"
    )


def _n(summary: dict[str, Any], *path: str) -> int:
    value: Any = summary
    for key in path:
        value = value.get(key, {}) if isinstance(value, dict) else {}
    return int(value) if isinstance(value, int | float) else 0


# ------------------------------------------------------------------------------------------
# Shared sections


def review_note(run: RunData) -> str:
    """The basis of the review: what the People looked at, as of when, under which policy."""
    policy = run.summary.get("policy", {})
    title = esc(policy.get("title", run.policy.title))
    return (
        f"The People reviewed every cannabis conviction in the records the Department of "
        f"Justice provided for {esc(run.county_title)} County under Health and Safety Code "
        f"section 11361.9, applying the statute and the office's written policy ({title}) as of "
        f"{run.as_of.isoformat()}. The declaration below states how the review was done."
    )


def sealing_application(exhibit_b_rows: int, number: str) -> list[Block]:
    """The application to file Exhibit B under seal, with the findings rule 2.550(d) needs."""
    return [
        Block("heading", f"{number}. APPLICATION TO FILE EXHIBIT B UNDER SEAL"),
        Block(
            "para",
            "Exhibit A, filed publicly, lists each conviction by row number, court case number "
            "and count only. Exhibit B, lodged conditionally under seal with this motion "
            "(California Rules of Court, rules 2.550 and 2.551), gives for the same row numbers "
            f"({exhibit_b_rows:,} row{'s' if exhibit_b_rows != 1 else ''}) the name, date of "
            "birth and state identification (CII) "
            "number of each person and the detail of the Department of Justice record. The "
            "People apply for an order sealing Exhibit B, and ask the Court to find under rule "
            "2.550(d): (1) an overriding interest, the privacy of persons whose convictions the "
            "law dismisses, seals or reduces and deems not to have occurred (Health and Safety "
            "Code sections 11361.8 and 11361.9), and the confidentiality of state summary "
            "criminal history information, overcomes the right of public access to Exhibit B; "
            "(2) that interest supports sealing it; (3) a substantial probability exists that "
            "the interest would be prejudiced if Exhibit B were public, since a public list "
            "would itself disclose the records the order protects; (4) the sealing is narrowly "
            "tailored, since Exhibit A keeps in the public record every case number and count "
            "the order acts on; and (5) no less restrictive means exists to give the Court and "
            "the clerk the identity of each person.",
        ),
    ]


def sealing_findings() -> str:
    return (
        "Exhibit B shall be filed under seal. The Court finds (California Rules of Court, rule "
        "2.550(d)) that the privacy of the persons whose records this order acts on, and the "
        "confidentiality of state summary criminal history information, are overriding "
        "interests that overcome the right of public access to Exhibit B and support sealing "
        "it; that a substantial probability exists that those interests would be prejudiced if "
        "it were public; that the sealing is narrowly tailored, Exhibit A keeping every case "
        "number and count in the public record; and that no less restrictive means exists."
    )


def declaration(run: RunData, filing: FilingInfo, lines: Sequence[str]) -> list[Block]:
    """The declaration of how the review was done: data source, dates, policy, counts."""
    summary = run.summary
    source = summary.get("input", {})
    files = ", ".join(esc(f.get("name", "")) for f in source.get("files", [])) or "(not recorded)"
    policy = summary.get("policy", {})
    by_decision = summary.get("by_decision", {})
    items = [
        f"I am an attorney for the People with {esc(filing.office)}. I make this declaration "
        "from my own knowledge and from the records described below.",
        "Data source. The review used the bulk file or files the California Department of "
        f"Justice provided under Health and Safety Code section 11361.9: {files}. Of "
        f"{_n(source, 'rows_read'):,} rows read, {_n(source, 'rows_loaded'):,} were loaded and "
        f"{_n(source, 'rows_quarantined'):,} were set aside as unreadable, each kept with the "
        "reason; no row was discarded.",
        f"Dates and policy. The review speaks as of {run.as_of.isoformat()}: whether a "
        "sentence is complete, and every period counted in years, is measured to that date. It "
        "applied Health and Safety Code sections 11357 through 11361.8 and the office's written "
        f"policy \u201c{esc(policy.get('title', run.policy.title))}\u201d "
        f"({esc(policy.get('source', run.policy.source))}).",
        "Method. Every rule of the statute and of the policy was evaluated for every cannabis "
        f"conviction in {esc(run.county_title)} County; each decision records every rule that "
        "applied, with its citation and the facts of the record it used. Eligibility was "
        "presumed: a fact the record does not carry never defeated relief, and a question the "
        "record could not settle was left for an attorney's review.",
        f"Counts. {_n(summary, 'convictions'):,} cannabis convictions of "
        f"{_n(summary, 'people'):,} people were decided: {_n(by_decision, 'dismiss'):,} "
        f"dismissal, {_n(by_decision, 'reduce'):,} reduction, "
        f"{_n(by_decision, 'not_eligible'):,} not eligible, {_n(by_decision, 'review'):,} "
        "left for review.",
        *lines,
    ]
    blocks = [Block("heading", f"DECLARATION OF {esc(filing.signer.upper())}")]
    blocks += [Block("item", text, label=f"{i}.") for i, text in enumerate(items, start=1)]
    blocks.append(
        Block(
            "para",
            "I declare under penalty of perjury under the laws of the State of California that "
            f"the foregoing is true and correct. Executed on ____________________ at "
            f"{esc(run.county_title)}, California.",
        )
    )
    blocks.append(
        Block("signature", lines=(esc(filing.signer), f"State Bar No. {esc(filing.bar_number)}"))
    )
    return blocks


# ------------------------------------------------------------------------------------------
# The legal basis of each group (its own authority only)

_PROP64 = (
    "Proposition 64, the Control, Regulate and Tax Adult Use of Marijuana Act, took effect on "
    "November 9, 2016. It made lawful much of the conduct formerly punished under Health and "
    "Safety Code sections 11357 through 11360 and made most of the rest misdemeanors or "
    "infractions."
)
_BULK = (
    "Health and Safety Code section 11361.9 (Assembly Bill 1793 (2018)) required the "
    "Department of Justice to identify the past convictions potentially eligible for relief "
    "and to notify the prosecution, and the prosecution to inform the court and the public "
    "defender of the convictions it challenges and to inform the court of those it does not "
    "challenge; a conviction not challenged by July 1, 2020 is to be recalled, dismissed or "
    "redesignated by the court. As amended by Assembly Bill 1706 (2022), the section required "
    "the court to issue its orders on unchallenged convictions no later than March 1, 2023 and "
    "to notify the Department of Justice, which was to update the state summary criminal "
    "history information by July 1, 2023."
)


def _legal_basis(group: ReliefGroup, run: RunData, rules: Sequence[str]) -> list[str]:
    if group is DISMISS_SEAL:
        return [
            _PROP64,
            "A person who has completed the sentence for a conviction of conduct that would not "
            "have been an offense under the Act may have the conviction dismissed and sealed "
            "because it is legally invalid (Health and Safety Code section 11361.8, "
            "subdivisions (e) and (f)). The court shall presume the person satisfies the "
            "criteria unless the party opposing relief proves otherwise by clear and "
            "convincing evidence (subdivision (f)).",
            _BULK,
        ]
    if group is REDESIGNATE:
        return [
            _PROP64,
            "A person who has completed the sentence for a conviction of conduct that would "
            "have been a lesser offense under the Act may have the conviction redesignated as a "
            "misdemeanor or infraction (Health and Safety Code section 11361.8, subdivisions "
            "(e) and (f)), presumed eligible unless the party opposing relief proves otherwise "
            "by clear and convincing evidence (subdivision (f)). A redesignated conviction is a "
            "misdemeanor or infraction for all purposes, with the firearm exception "
            "subdivision (h) states. Redesignation does not seal the record.",
            _BULK,
        ]
    if group is RECALL:
        return [
            _PROP64,
            "A person currently serving a sentence for a conviction of conduct that would not "
            "have been an offense, or would have been a lesser offense, under the Act may have "
            "the sentence recalled and be resentenced, or have the sentence dismissed because "
            "it is legally invalid (Health and Safety Code section 11361.8, subdivisions (a) "
            "and (b)). The court shall grant relief unless the party opposing it proves by "
            "clear and convincing evidence that the person does not satisfy the criteria, or "
            "the court determines that granting it would pose an unreasonable risk of danger "
            "to public safety, as defined in Penal Code section 1170.18, subdivision (c) "
            "(subdivision (b)). A person resentenced receives credit for time already served "
            "and is subject to supervision for one year after completing the time in custody, "
            "or to the supervision the person would otherwise have served, whichever is "
            "shorter, unless the court releases the person from supervision (subdivision "
            "(c)); resentencing may not result in a term longer than the original sentence "
            "(subdivision (d)). Subdivision (b) provides for recall and dismissal of the "
            "sentence, not for sealing.",
            "The provision that no hearing is necessary (subdivision (g)) covers applications "
            "under subdivision (e) by persons who have completed the sentence. This motion "
            "concerns persons still serving; the People therefore request a hearing, at which "
            "the Court can set each new sentence, credit and term of supervision.",
            _BULK,
        ]
    criteria = "; ".join(esc(text) for text in rules) or "as stated in the office's policy"
    if group in (POLICY_1385, RELATED_1385):
        what = (
            "convictions in the same arrest cycle as a cannabis conviction the People do not "
            "challenge, which the office's written policy dismisses"
            if group is RELATED_1385
            else "cannabis convictions the office's written policy dismisses beyond the relief "
            "the statute gives"
        )
        return [
            f"Exhibit A lists {what} ({esc(run.policy.source)}): {criteria}.",
            "Each listed person is still serving the sentence, or is on probation, for the "
            "listed conviction. While the sentence or probation runs, the Court may order the "
            "action dismissed in furtherance of justice (Penal Code section 1385, subdivision "
            "(a)); that power ends when the court can no longer impose or modify the judgment, "
            "once the sentence or probation is complete (People v. Chavez (2018) 4 Cal.5th "
            "771). The People therefore move, for each listed conviction, that the sentence be "
            "recalled and the action dismissed in furtherance of justice, for the reasons "
            "stated here, which the order is to set forth (Penal Code section 1385, "
            "subdivision (a)).",
            "A dismissal under Penal Code section 1385 is not a finding that the conviction is "
            "legally invalid. The People do not ask that these records be sealed under Health "
            "and Safety Code section 11361.8, subdivision (f).",
        ]
    what = (
        "convictions in the same arrest cycle as a cannabis conviction the People do not "
        "challenge, which the office's written policy would dismiss"
        if group is RELATED_1203
        else "cannabis convictions the office's written policy would dismiss beyond the relief "
        "the statute gives"
    )
    return [
        f"Exhibit A lists {what} ({esc(run.policy.source)}): {criteria}.",
        "Each listed person has completed the sentence for the listed conviction. The Court's "
        "power to dismiss in furtherance of justice under Penal Code section 1385 ended with "
        "the sentence (People v. Chavez (2018) 4 Cal.5th 771). After a completed sentence the "
        "Legislature provides dismissal on the person's own petition: Penal Code section "
        "1203.4 (probation), section 1203.4a (a misdemeanor or infraction without probation), "
        "section 1203.41 (a county jail sentence under section 1170, subdivision (h)) and "
        "section 1203.42 (a prison sentence for an offense now punished under section 1170, "
        "subdivision (h)).",
        "The People give notice that, under the office's written policy, they do not oppose "
        "relief under whichever of those sections applies on the petition of any listed "
        "person, and ask the Court to treat this notice as the People's response to such a "
        "petition. Dismissal under those sections does not seal the record. Where the statute "
        "itself redesignates a listed conviction, that relief is asked in the People's motion "
        "for redesignation.",
    ]


# ------------------------------------------------------------------------------------------
# Motions, orders, notices


def policy_criteria(exhibit_rows: pl.DataFrame, rules: Sequence[Rule]) -> list[str]:
    """The policy rules that dismissed the group's rows (each once, in rule order)."""
    ids = {
        rule_id
        for reasons in exhibit_rows["reasons"].drop_nulls().to_list()
        for rule_id in reasons.split(";")
    }
    chosen = [
        rule
        for rule in rules
        if rule.id in ids and rule.source == "policy" and rule.outcome == "dismiss"
    ]
    # The policy's own rules cite the policy, already named once: their sentences suffice.
    source = {rule.citation for rule in chosen}
    return [rule.text if len(source) == 1 else f"{rule.text} ({rule.citation})" for rule in chosen]


def _relief_items(group: ReliefGroup, court: str, ordered: bool) -> list[str]:
    """The numbered relief: asked for in the motion (`ordered` False), ordered in the order."""
    be = "is" if ordered else "be"
    shall = "shall" if ordered else "be directed to"
    each = "each conviction listed in Exhibit A"
    clerk = (
        f"The clerk of the {esc(court)} {shall} update the court's records of each listed case "
        "and notify the Department of Justice of this order forthwith, so that the state "
        "summary criminal history information is updated (Health and Safety Code section "
        "11361.9)."
    )
    sealed = "Exhibit B, lodged conditionally under seal, " + (
        "is ordered filed under seal." if ordered else "be filed under seal."
    )
    released = "shall be" if ordered else "be"
    if group is RECALL:
        who = (
            "A listed person whose sentence is dismissed, or whose credit for time served equals "
            "or exceeds the new term on the listed conviction,"
        )
    else:
        who = "A listed person in custody on a listed conviction"
    custody = (
        f"{who} {released} released from custody on that conviction forthwith, unless held "
        "on another matter; the column \u201cCustody or release\u201d of Exhibit A records the "
        f"Court's direction for each row, and the clerk {shall} send this order to the "
        "person's custodian and supervising agency."
    )
    if group is DISMISS_SEAL:
        return [
            f"{each[0].upper()}{each[1:]} {be} dismissed and sealed because it is legally "
            "invalid (Health and Safety Code section 11361.8, subdivision (f)).",
            f"The clerk {shall} seal the court's records of each listed conviction. Sealing "
            "covers the record of the conviction and of the arrest and other proceedings in the "
            "case relating to it; they are deemed not to have occurred, and the person may "
            "answer any question about them accordingly (Health and Safety Code section "
            "11361.9, as amended by Assembly Bill 1706). The Department of Justice "
            f"{'shall' if ordered else 'be directed to'} update the state summary criminal "
            "history information to show each listed conviction dismissed and sealed.",
            clerk,
            sealed,
        ]
    if group is REDESIGNATE:
        return [
            f"{each[0].upper()}{each[1:]} {be} redesignated as the misdemeanor or infraction "
            "shown in the column \u201cRelief\u201d, a misdemeanor or infraction for all "
            "purposes (Health and Safety Code section 11361.8, subdivisions (f) and (h)).",
            clerk,
            sealed,
        ]
    if group is RECALL:
        return [
            f"The sentence on {each} {be} recalled, and the person resentenced as shown in the "
            "column \u201cRelief\u201d, or the sentence dismissed because it is legally invalid "
            "where that column says so (Health and Safety Code section 11361.8, subdivision "
            "(b)), on the terms stated in the columns \u201cNew sentence\u201d, \u201cCredit "
            "for time served\u201d and \u201cSupervision\u201d.",
            "Each person resentenced receives credit for any time already served, and is "
            "subject to supervision for one year after completing the time in custody or to the "
            "supervision the person would otherwise have served, whichever is shorter, unless "
            "the column \u201cSupervision\u201d releases the person from supervision (Health "
            "and Safety Code section 11361.8, subdivision (c)). No new term is longer than the "
            "original sentence (subdivision (d)).",
            custody,
            clerk,
            sealed,
        ]
    return [
        f"The sentence on {each} {be} recalled and the action, as to the listed conviction, "
        "dismissed in furtherance of justice, for the reasons stated in the People's motion "
        "(Penal Code section 1385, subdivision (a)). The conviction is not sealed.",
        custody,
        clerk,
        sealed,
    ]


def motion_document(
    run: RunData,
    filing: FilingInfo,
    group: ReliefGroup,
    exhibit: Exhibit,
    criteria: Sequence[str],
    declaration_lines: Sequence[str],
) -> LegalDocument:
    """The People's motion (or notice) for one relief group in one court, Exhibit A attached."""
    court = filing.court_name
    n, people = exhibit.frame.height, exhibit.people
    if group.document == "notice":
        opening = (
            f"PLEASE TAKE NOTICE that the People of the State of California, by "
            f"{esc(filing.office)}, do not oppose dismissal of each conviction listed in Exhibit "
            f"A ({counts_text(n, people)}) on the petition of the person convicted, under Penal "
            "Code sections 1203.4, 1203.4a, 1203.41 and 1203.42, as stated below."
        )
    else:
        hearing = (
            "The People request a hearing on a date the Court sets."
            if group.hearing
            else "No hearing is required: the People do not challenge the relief."
        )
        opening = (
            f"PLEASE TAKE NOTICE that the People of the State of California, by "
            f"{esc(filing.office)}, move the Court for an order {group.request} each "
            f"conviction listed in Exhibit A ({counts_text(n, people)}), as stated below. "
            f"{hearing} Each person and conviction is identified, by the row numbers of "
            "Exhibit A, in Exhibit B, lodged conditionally under seal."
        )
    blocks: list[Block] = [
        Block("plain", f"TO THE HONORABLE PRESIDING JUDGE OF THE {esc(court.upper())}:"),
        Block("para", opening),
        Block("heading", "I. LEGAL BASIS"),
        *[Block("para", text) for text in _legal_basis(group, run, criteria)],
        Block("heading", "II. THE PEOPLE'S REVIEW"),
        Block("para", review_note(run)),
    ]
    if group.kind == "statute":
        blocks.append(
            Block(
                "para",
                "Under Health and Safety Code section 11361.9 the People inform the Court that "
                f"they do not challenge the {group.title.lower()} of any conviction listed in "
                "Exhibit A. The convictions the People challenge are listed in their separate "
                "notice to the Court and the Public Defender.",
            )
        )
    if group is RECALL:
        blocks.append(
            Block(
                "para",
                "The People do not contend that relief for any listed person would pose an "
                "unreasonable risk of danger to public safety within the meaning of Health and "
                "Safety Code section 11361.8, subdivision (b), and Penal Code section 1170.18, "
                "subdivision (c).",
            )
        )
    blocks += sealing_application(n, "III")
    if group.document == "motion":
        blocks += [
            Block("heading", "IV. RELIEF REQUESTED"),
            Block("plain", "The People respectfully request an order that:"),
            *[
                Block("item", text, label=f"{i}.")
                for i, text in enumerate(_relief_items(group, court, ordered=False), start=1)
            ],
        ]
    blocks.append(people_signature(filing))
    blocks += declaration(
        run,
        filing,
        [
            f"This {'notice' if group.document == 'notice' else 'motion'} lists "
            f"{counts_text(n, people)} in Exhibit A ({esc(group.title.lower())}, "
            f"{esc(group.authority)}), each identified in Exhibit B by the same row number.",
            *declaration_lines,
        ],
    )
    kind = "Notice" if group.document == "notice" else "Motion"
    return pleading(
        filing,
        title=group.motion_title,
        short_title=f"{kind}: {group.title} ({group.authority})",
        blocks=blocks,
        exhibit=exhibit,
        keywords=("Proposition 64", "HS 11361.8", "HS 11361.9", group.key),
        hearing=HEARING_LINES if group.hearing else NO_HEARING if group.kind == "statute" else (),
    )


def order_document(
    run: RunData, filing: FilingInfo, group: ReliefGroup, exhibit: Exhibit
) -> LegalDocument:
    """The proposed order for the judge's signature, with the same Exhibit A."""
    court = filing.court_name
    identified = (
        "Each listed conviction is for conduct before November 9, 2016 and was identified for "
        "relief under Health and Safety Code section 11361.9."
    )
    unchallenged = (
        "The People do not challenge the relief, and no party has shown by clear and "
        "convincing evidence that any listed person does not satisfy the criteria of Health "
        "and Safety Code section 11361.8."
    )
    if group is DISMISS_SEAL:
        findings = [
            identified,
            unchallenged,
            "Each listed person has completed the sentence for the listed conviction.",
            "The conduct underlying each listed conviction is now lawful (Health and Safety "
            "Code section 11362.1), and each listed conviction is legally invalid (Health and "
            "Safety Code section 11361.8, subdivision (f)).",
        ]
    elif group is REDESIGNATE:
        findings = [
            identified,
            unchallenged,
            "Each listed person has completed the sentence for the listed conviction.",
            "The conduct underlying each listed conviction is now punishable only as the "
            "misdemeanor or infraction shown in the column \u201cRelief\u201d (Health and "
            "Safety Code section 11361.8, subdivision (f)).",
        ]
    elif group is RECALL:
        findings = [
            identified,
            unchallenged,
            "Each listed person is currently serving the sentence for the listed conviction, and "
            "granting relief would not pose an unreasonable risk of danger to public safety "
            "(Health and Safety Code section 11361.8, subdivision (b); Penal Code section "
            "1170.18, subdivision (c)).",
            "No new term exceeds the original sentence (subdivision (d)), and, unless the "
            "column \u201cCustody or release\u201d of Exhibit A says otherwise, the listed person "
            "has not served longer than the new term imposed.",
        ]
    else:
        findings = [
            "Each listed person is still serving the sentence, or is on probation, for the "
            "listed conviction, so the Court may dismiss the action in furtherance of justice "
            "(Penal Code section 1385; People v. Chavez (2018) 4 Cal.5th 771).",
            "Dismissal is in furtherance of justice for the reasons stated in the People's "
            "motion, which the Court adopts and sets forth here (Penal Code section 1385, "
            "subdivision (a)).",
        ]
    findings.append(sealing_findings())
    deadline = (
        "This order is made under Health and Safety Code section 11361.9, which, as amended by "
        "Assembly Bill 1706, required the court to issue orders on convictions not challenged "
        f"by {CHALLENGE_DEADLINE:%B} 1, 2020 no later than {ORDER_DEADLINE:%B} 1, 2023."
    )
    blocks: list[Block] = [
        Block(
            "para",
            "The Court has read and considered the People's motion concerning "
            f"{counts_text(exhibit.frame.height, exhibit.people)} listed in Exhibit A, attached "
            "and incorporated by reference, each identified in Exhibit B, lodged under seal. "
            "Good cause appearing,",
        ),
        Block("heading", "THE COURT FINDS:"),
        *[Block("item", text, label=f"{i}.") for i, text in enumerate(findings, start=1)],
        Block("heading", "IT IS ORDERED:"),
        *[
            Block("item", text, label=f"{i}.")
            for i, text in enumerate(_relief_items(group, court, ordered=True), start=1)
        ],
    ]
    if group.kind == "statute":
        blocks.append(Block("para", deadline))
    blocks.append(judge_signature())
    return pleading(
        filing,
        title=group.order_title,
        short_title=f"Order: {group.title} ({group.authority})",
        blocks=blocks,
        exhibit=exhibit,
        keywords=("Proposition 64", "HS 11361.8", "HS 11361.9", group.key, "order"),
        hearing=HEARING_LINES if group.hearing else NO_HEARING if group.kind == "statute" else (),
    )


def exhibit_b_document(
    filing: FilingInfo, of_title: str, short_title: str, exhibit: Exhibit
) -> LegalDocument:
    """Exhibit B as its own file: a cover sheet saying what it is and how it is lodged, then
    the table, every page marked confidential."""
    blocks = [
        Block(
            "para",
            f"This exhibit identifies, by the row numbers of Exhibit A, each person and "
            f"conviction listed in the People's filing \u201c{esc(of_title)}\u201d. It is lodged "
            "conditionally under seal, with the People's application to file it under seal "
            "(California Rules of Court, rules 2.550 and 2.551). It is not to be placed in the "
            "public file.",
        ),
        Block(
            "para",
            f"It lists {counts_text(exhibit.frame.height, exhibit.people)}: name, date of birth "
            "and CII number as the Department of Justice records them, the DOJ count number, "
            "the section and date of conviction, and the relief or ground.",
        ),
    ]
    return pleading(
        filing,
        title="EXHIBIT B: CONFIDENTIAL, LODGED CONDITIONALLY UNDER SEAL",
        short_title=f"Exhibit B (under seal) to {short_title}",
        blocks=blocks,
        exhibit=exhibit,
        keywords=("Proposition 64", "Exhibit B", "confidential"),
        confidential=True,
    )
