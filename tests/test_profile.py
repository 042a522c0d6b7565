"""Rule profiles: shipped data files, user overrides, and errors that name the file and key."""
import pytest

import jixiao
from jixiao import ProfileError, load_profile


def test_shipped_profiles_load():
    assert {"national-2020", "hunan-dept-2024", "county-rubric-2022"} <= set(jixiao.shipped_profiles())
    for name in jixiao.shipped_profiles():
        p = load_profile(name)
        assert p.id == name and p.source


def test_hunan_extends_national_and_overrides_a_few_keys():
    p = load_profile("hunan-dept-2024")
    assert p.chain[0].endswith("national-2020.toml")
    assert p.execution.rounding.decimals == 0 and p.execution.rounding.mode == "up"
    assert p.indicators.over_achievement_ratio == 1.2          # inherited
    assert p.weights.first_level["成本指标"] == 20
    assert p.weights.sum_row_includes_execution is False


def test_user_profile_extends_shipped_one(tmp_path):
    f = tmp_path / "my-county.toml"
    f.write_text('[profile]\nid = "my-county"\nname = "某县"\nextends = "county-rubric-2022"\n'
                 '[control.staff_control]\nstep = 0.5\n', encoding="utf-8")
    assert jixiao.control_score("staff_control", 1.02, str(f)) == 1.0       # 2 points × 0.5
    assert jixiao.control_score("staff_control", 1.02, "county-rubric-2022") == 1.6


def test_user_profile_can_extend_a_file_next_to_it(tmp_path):
    (tmp_path / "base.toml").write_text('[profile]\nid = "base"\nname = "b"\nextends = "national-2020"\n'
                                        '[execution]\nweight = 20\n', encoding="utf-8")
    (tmp_path / "child.toml").write_text('[profile]\nid = "child"\nname = "c"\nextends = "base.toml"\n'
                                         '[weights]\nfirst_level = []\n', encoding="utf-8")
    assert load_profile(str(tmp_path / "child.toml")).execution.weight == 20


@pytest.mark.parametrize("body,key,words", [
    ('[execution]\nweight = "ten"\n', "execution.weight", "应为数字"),
    ('[execution]\nround_mode = "bankers"\n', "execution.round_mode", "half_up"),
    ('[execution]\nmethod = "bands"\nbands = []\n', "execution.bands", "分档"),
    ('[indicators]\nover_achievement_ratio = 0.5\n', "indicators.over_achievement_ratio", "之间"),
    ('[weights]\nfirst_level = [{ name = "产出指标", weight = 80 }]\n', "weights.first_level", "应等于"),
    ('[control.staff_control]\nrule = "sideways"\n', "control.staff_control.rule", "ceiling"),
    ('[execution]\nbands = [{ min = 0.9, share = 1.5 }]\n', "execution.bands[0].share", "之间"),
])
def test_bad_values_name_file_and_key(tmp_path, body, key, words):
    f = tmp_path / "bad.toml"
    f.write_text(f'[profile]\nid = "bad"\nname = "bad"\nextends = "national-2020"\n{body}', encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(str(f))
    assert e.value.key == key and e.value.file.endswith("bad.toml") and words in e.value.message
    assert "bad.toml" in str(e.value) and key in str(e.value)


def test_unknown_profile_lists_the_shipped_ones():
    with pytest.raises(ProfileError, match="national-2020") as e:
        load_profile("guangdong-2031")
    assert e.value.code == "profile.not_found"


def test_syntax_error_and_cycle(tmp_path):
    f = tmp_path / "broken.toml"
    f.write_text("[profile\nid=", encoding="utf-8")
    with pytest.raises(ProfileError, match="TOML"):
        load_profile(str(f))
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('[profile]\nextends = "b.toml"\n', encoding="utf-8")
    b.write_text('[profile]\nextends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match="循环"):
        load_profile(str(a))
