"""Tests for policy loading: the shipped presets, YAML error reporting and the tool's JSON options.

A policy decides what an office asks a court for, so these tests pin two things: that each
preset says what its county announced (prop64.md section 6), and that a mistake in a policy file
stops with the file, line and key the author has to fix, never with a traceback.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from clearance.engine import all_rules
from clearance.policy.loader import (
    PolicyError,
    list_presets,
    load_policy,
    policy_from_tool_options,
    policy_from_yaml_text,
    policy_text,
    preset_names,
    preset_path,
)
from clearance.policy.schema import COUNTY_FLOWS, POLICY_SECTIONS, Policy, statute_policy
from clearance.policy.tool_options import TOOL_SECTIONS, ToolOptions, normalize_entry

PRESETS = (
    "statute",
    "contra-costa-2019",
    "los-angeles-2020",
    "sacramento-2019",
    "san-francisco-2018",
    "san-joaquin-2019",
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(spec: str | Path) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy(spec)
    return str(info.value)


# --- presets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_and_names_its_source(name: str) -> None:
    policy = load_policy(name)
    assert policy.name == name
    assert policy.title
    assert policy.source
    assert policy.flow == ("clearance" if name == "statute" else name.replace("-", "_"))
    # Every section has a baseline; keys beyond them are subdivisions of those sections.
    assert set(POLICY_SECTIONS) <= set(policy.sections)
    assert all(key.split("(")[0] in POLICY_SECTIONS for key in policy.sections)
    # The preset file is the full text of the policy; it parses the same from its text.
    assert policy_from_yaml_text(policy_text(name), f"{name}.yaml") == policy


def test_list_presets_statute_first_then_by_name() -> None:
    names = [policy.name for policy in list_presets()]
    assert names == ["statute", *sorted(PRESETS[1:])]
    assert preset_names() == names


def test_statute_preset_is_the_default_policy() -> None:
    assert load_policy("statute") == statute_policy()


@pytest.mark.parametrize("name", PRESETS)
def test_load_by_name_and_by_path_agree(name: str) -> None:
    path = preset_path(name)
    assert path.name == f"{name}.yaml"
    assert load_policy(path) == load_policy(name) == load_policy(str(path))


def test_preset_filing_names_only_the_court() -> None:
    for policy in list_presets():
        filing = policy.filing
        assert (filing.office, filing.signer, filing.bar_number, filing.court_address) == (
            None,
            None,
            None,
            None,
        )
        if policy.name != "statute":
            assert filing.court_name is not None
            assert filing.court_name.startswith("Superior Court of California, County of ")


@pytest.mark.parametrize("name", PRESETS[1:])
def test_county_presets_follow_their_county_flow(name: str) -> None:
    """A county preset decides with its county's own steps (clearance.county_flows), which
    cite the county's code; the clearance flow's settings stay at their defaults."""
    policy = load_policy(name)
    assert policy.flow in COUNTY_FLOWS
    for field in ("sections", "misdemeanors", "priors", "additional_dismissal",
                  "related_charges", "still_serving", "remaining", "lawful_conduct",
                  "tool_options"):  # fmt: skip
        assert getattr(policy, field) == getattr(statute_policy(), field), field
    steps = [r for r in all_rules(policy, date(2026, 11, 21)) if r.id.startswith(
        policy.flow.rsplit("_", 1)[0] + "_")]  # fmt: skip
    assert len(steps) >= 7
    assert all("gogen_pilots" in r.citation or "autoclearance" in r.citation
               or r.citation.startswith("HS 11361.8") for r in steps)  # fmt: skip


def test_a_county_flow_refuses_settings_it_would_ignore(tmp_path: Path) -> None:
    text = VALID_HEAD + "flow: los_angeles_2020\nmisdemeanors:\n  treatment: dismiss\n"
    assert error_of(write(tmp_path, "p.yaml", text)) == (
        "p.yaml line 5: misdemeanors: has no effect with flow los_angeles_2020, which decides "
        "with the county's own steps (clearance.county_flows); remove it"
    )
    challenge = VALID_HEAD + "flow: sacramento_2019\nlawful_conduct: challenge_with_prior\n"
    assert error_of(write(tmp_path, "c.yaml", challenge)) == (
        "c.yaml line 5: lawful_conduct: has no effect with flow sacramento_2019, which decides "
        "with the county's own steps (clearance.county_flows); remove it"
    )
    # The judgment switches and the filing still apply.
    ok = VALID_HEAD + "flow: los_angeles_2020\njudgment:\n  accessory_pc32_review: false\n"
    assert load_policy(write(tmp_path, "ok.yaml", ok)).judgment.accessory_pc32_review is False


# --- YAML errors -----------------------------------------------------------------------------

VALID_HEAD = "name: test-policy\ntitle: Test\nsource: test memo\n"


def test_bad_value_reports_line_and_dotted_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "policy.yaml",
        VALID_HEAD
        + "# the office's own criteria\n"
        + "additional_dismissal:\n"
        + "  under_21_at_offense: true\n"
        + "  age_at_least: 130\n",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == (
        "policy.yaml line 7: additional_dismissal.age_at_least: "
        "Input should be less than or equal to 120"
    )
    assert (info.value.line, info.value.key) == (7, "additional_dismissal.age_at_least")


def test_bad_list_item_reports_its_own_line(tmp_path: Path) -> None:
    text = VALID_HEAD + "related_charges:\n  dismiss:\n    - PC 647(f)\n    - 647\n"
    path = write(tmp_path, "p.yml", text)
    assert error_of(path) == (
        "p.yml line 7: related_charges.dismiss[1]: Input should be a valid string"
    )


def test_first_error_in_reading_order(tmp_path: Path) -> None:
    text = VALID_HEAD + "remaining: maybe\nmisdemeanors:\n  treatment: drop\n"
    message = error_of(write(tmp_path, "p.yaml", text))
    assert message.startswith("p.yaml line 4: remaining: ")


def test_unknown_key_is_rejected_by_name(tmp_path: Path) -> None:
    text = VALID_HEAD + "additional_dismissal:\n  age_at_leest: 50\n"
    message = error_of(write(tmp_path, "p.yaml", text))
    assert message.startswith("p.yaml line 5: additional_dismissal.age_at_leest: unknown key")
    assert "age_at_least" in message


def test_unknown_top_level_key_is_rejected_by_name(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "p.yaml", VALID_HEAD + "remainder: review\n"))
    assert message.startswith("p.yaml line 4: remainder: unknown key (expected one of: name,")


def test_missing_required_key_points_at_the_parent_mapping(tmp_path: Path) -> None:
    text = "# a policy\nname: test-policy\nsource: memo\n"
    assert error_of(write(tmp_path, "p.yaml", text)) == (
        "p.yaml line 2: title: required key is missing"
    )


def test_unquoted_section_keys_are_section_names(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "p.yaml", VALID_HEAD + "sections:\n  11358: reduce\n"))
    assert policy.sections["11358"] == "reduce"
    bad = write(tmp_path, "q.yaml", VALID_HEAD + "sections:\n  11358: redcue\n")
    assert error_of(bad).startswith("q.yaml line 5: sections.11358: Input should be ")


def test_impossible_date_names_key_and_line(tmp_path: Path) -> None:
    text = VALID_HEAD + "misdemeanors:\n  treatment: dismiss\n  since: 2019-02-30\n"
    assert error_of(write(tmp_path, "p.yaml", text)).startswith(
        "p.yaml line 6: misdemeanors.since: Input should be a valid date"
    )


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = VALID_HEAD + "remaining: review\nremaining: reduce\n"
    assert error_of(write(tmp_path, "p.yaml", text)) == (
        "p.yaml line 5: remaining: key appears twice (first on line 4)"
    )


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = VALID_HEAD + "remaining: review\nsections: [11357\nstill_serving: review\n"
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, "p.yaml", text))
    assert str(info.value).startswith("p.yaml: not valid YAML (line 6): ")
    assert info.value.line == 6


def test_tab_indentation_is_a_syntax_error_with_line(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "p.yaml", VALID_HEAD + "filing:\n\toffice: x\n"))
    assert message.startswith("p.yaml: not valid YAML (line 5): ")


def test_empty_file(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "p.yaml", "# nothing yet\n"))
    assert message.startswith("p.yaml: the policy is empty")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "p.yaml", "- statute\n- los-angeles-2020\n"))
    assert message.startswith("p.yaml line 1: the policy must be a mapping")


def test_missing_file_lists_the_presets(tmp_path: Path) -> None:
    message = error_of(tmp_path / "nope.yaml")
    assert message.startswith("no such policy file or preset ")
    assert message.endswith("presets are " + ", ".join(preset_names()))
    assert error_of("los-angeles").startswith("no such policy file or preset 'los-angeles'")
    with pytest.raises(PolicyError, match="presets are statute, "):
        preset_path("../schema")


def test_other_suffix_is_refused(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "policy.txt", VALID_HEAD))
    assert message.startswith("policy.txt: a policy file ends in .yaml or .yml")


def test_error_does_not_echo_file_content(tmp_path: Path) -> None:
    secret = "JOHN DOE 1970-01-01"
    text = VALID_HEAD + f"still_serving: {secret}\n"
    message = error_of(write(tmp_path, "p.yaml", text))
    assert message.startswith("p.yaml line 4: still_serving: ")
    assert secret not in message


def test_policy_from_yaml_text_uses_the_source_name() -> None:
    with pytest.raises(PolicyError) as info:
        policy_from_yaml_text(VALID_HEAD + "flow: other\n", "upload.yaml")
    assert str(info.value).startswith("upload.yaml line 4: flow: Input should be ")
    assert info.value.source == "upload.yaml"


# --- policy_text -----------------------------------------------------------------------------


def test_policy_text_is_the_exact_file_text(tmp_path: Path) -> None:
    text = "# Windows line endings kept\r\n" + VALID_HEAD.replace("\n", "\r\n")
    path = tmp_path / "p.yaml"
    path.write_bytes(text.encode("utf-8"))
    assert policy_text(path) == text
    assert load_policy(path).name == "test-policy"


def test_policy_text_of_a_preset_is_its_file() -> None:
    for name in PRESETS:
        assert policy_text(name) == preset_path(name).read_bytes().decode("utf-8")


# --- the configurable tool's JSON options ----------------------------------------------------

REALISTIC_OPTIONS: dict[str, Any] = {
    "baselineEligibility": {
        "dismiss": ["11357", "11358", "11359", "11360"],
        "reduce": [],
    },
    "additionalRelief": {
        "subjectUnder21AtConviction": True,
        "subjectAgeThreshold": 50,
        "yearsSinceConvictionThreshold": 5,
        "yearsCrimeFreeThreshold": 5,
        "subjectHasOnlyProp64Charges": True,
        "subjectIsDeceased": False,
    },
}


def test_tool_options_file_converts(tmp_path: Path) -> None:
    path = write(tmp_path, "Eligibility Options.json", json.dumps(REALISTIC_OPTIONS, indent=2))
    policy = load_policy(path)
    assert policy.flow == "configurable_tool"
    assert policy.name == "configurable-tool-eligibility-options"
    assert policy.sections == dict.fromkeys(POLICY_SECTIONS, "dismiss")
    assert policy.tool_options == ToolOptions(
        dismiss=["11357", "11358", "11359", "11360"],
        reduce=[],
        subject_under_21_at_conviction=True,
        subject_age_threshold=50,
        years_since_conviction_threshold=5,
        years_crime_free_threshold=5,
        subject_has_only_prop64_charges=True,
        subject_is_deceased=False,
    )
    # The equivalent Policy fields, for display.
    extra = policy.additional_dismissal
    assert extra.under_21_at_conviction is True
    assert extra.age_at_least == 50
    assert extra.years_since_conviction == 5
    assert extra.crime_free_years == 5
    assert extra.only_cannabis is True
    assert extra.deceased is False
    assert policy.misdemeanors.treatment == "dismiss"
    assert policy.priors.effect == "warn"
    assert policy_text(path) == path.read_text(encoding="utf-8")


def test_tool_zero_thresholds_are_off() -> None:
    data = {
        "baselineEligibility": {"dismiss": ["11357"], "reduce": ["11359", "11360"]},
        "additionalRelief": {"subjectAgeThreshold": 0, "yearsCrimeFreeThreshold": 0},
    }
    policy = policy_from_tool_options(data, "options.json")
    assert policy.additional_dismissal.age_at_least is None
    assert policy.additional_dismissal.crime_free_years is None
    assert policy.sections == {
        "11357": "dismiss",
        "11358": "review",  # in neither list: the tool gave no decision
        "11359": "reduce",
        "11360": "reduce",
    }


def test_tool_subsection_entries_are_kept_exactly() -> None:
    data = {
        "baselineEligibility": {
            "dismiss": ["11357(A)", "HS 11357(b)", "11358", "11357(a)"],
            "reduce": ["11359 HS", "11360(a)", "11358"],
        }
    }
    policy = policy_from_tool_options(data, "options.json")
    assert policy.tool_options is not None
    assert policy.tool_options.dismiss == ["11357(a)", "11357(b)", "11358"]
    assert policy.tool_options.reduce == ["11359", "11360(a)", "11358"]
    assert policy.sections == {
        "11357": "review",  # split by subsection: no single section-level answer
        "11358": "dismiss",  # the dismiss step comes first
        "11359": "reduce",
        "11360": "review",
    }


@pytest.mark.parametrize(
    ("group", "key", "value"),
    [
        ("additionalRelief", "subjectAgeThreshold", 30),
        ("additionalRelief", "subjectAgeThreshold", 66),
        ("additionalRelief", "yearsCrimeFreeThreshold", 20),
        ("additionalRelief", "yearsSinceConvictionThreshold", 16),
        ("additionalRelief", "subjectAgeThreshold", "50"),
        ("additionalRelief", "subjectIsDeceased", "yes"),
    ],
)
def test_tool_values_out_of_range_name_the_key(group: str, key: str, value: Any) -> None:
    data = json.loads(json.dumps(REALISTIC_OPTIONS))
    data[group][key] = value
    with pytest.raises(PolicyError) as info:
        policy_from_tool_options(data, "options.json")
    assert str(info.value).startswith(f"options.json: {group}.{key}: ")
    assert info.value.key == f"{group}.{key}"


def test_tool_age_threshold_30_message(tmp_path: Path) -> None:
    data = json.loads(json.dumps(REALISTIC_OPTIONS))
    data["additionalRelief"]["subjectAgeThreshold"] = 30
    path = write(tmp_path, "options.json", json.dumps(data))
    assert error_of(path) == (
        "options.json: additionalRelief.subjectAgeThreshold: must be 0 (off) or between 40 and 65"
    )
    data["additionalRelief"]["subjectAgeThreshold"] = 50
    data["additionalRelief"]["yearsCrimeFreeThreshold"] = 20
    path = write(tmp_path, "options.json", json.dumps(data))
    assert error_of(path) == (
        "options.json: additionalRelief.yearsCrimeFreeThreshold: "
        "must be 0 (off) or between 1 and 15"
    )


@pytest.mark.parametrize("entry", ["11357.5", "11362", "HS 1135", "PC 11357", ""])
def test_tool_section_entries_outside_prop64_are_errors(entry: str) -> None:
    data = {"baselineEligibility": {"dismiss": ["11358", entry]}}
    with pytest.raises(PolicyError) as info:
        policy_from_tool_options(data, "options.json")
    assert str(info.value).startswith("options.json: baselineEligibility.dismiss[1]: not one of")


def test_tool_unknown_keys_are_named() -> None:
    with pytest.raises(PolicyError, match=r"^options\.json: baselineEligibilty: unknown key"):
        policy_from_tool_options({"baselineEligibilty": {}}, "options.json")
    with pytest.raises(PolicyError, match=r"^options\.json: additionalRelief\.under21: unknown"):
        policy_from_tool_options({"additionalRelief": {"under21": True}}, "options.json")


def test_tool_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "options.json", '{\n  "baselineEligibility": {\n    "dismiss": [,]\n')
    assert error_of(path).startswith("options.json: not valid JSON (line 3): ")


def test_tool_json_must_be_an_object(tmp_path: Path) -> None:
    path = write(tmp_path, "options.json", '["11357"]')
    assert error_of(path).startswith("options.json: the eligibility options must be a JSON object")


def test_tool_sections_match_policy_sections() -> None:
    assert TOOL_SECTIONS == POLICY_SECTIONS
    assert normalize_entry(" H&S 11360 (A) (2) ") == "11360(a)(2)"


def test_tool_options_round_trip_through_yaml() -> None:
    policy = policy_from_tool_options(REALISTIC_OPTIONS, "options.json")
    text = json.dumps(policy.model_dump(mode="json"))  # JSON is valid YAML
    assert policy_from_yaml_text(text, "dump.yaml") == policy
    assert isinstance(policy, Policy)
