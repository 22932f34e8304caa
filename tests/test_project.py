"""What build.py tells the engine: the project, its sections by name, and the section contract."""
from pathlib import Path

import pytest

from conftest import TINY_SECTION
from report.errors import UsageError
from report.fingerprint import ENGINE_DIR
from report.project import Project
from report.section import load


def test_paths_given_relative_are_made_absolute(tiny, monkeypatch):
    monkeypatch.chdir(tiny.root)
    project = Project(root=Path("."), sections={}, templates=Path("templates"))
    assert (project.root, project.templates) == (tiny.root, tiny.root / "templates")


def test_an_unknown_section_lists_the_valid_ones(tiny):
    with pytest.raises(UsageError) as caught:
        tiny.section("nosuch")
    assert caught.value.message == "unknown section 'nosuch'; valid sections: counting"
    assert caught.value.hint == "name one of the valid sections, or none to build them all"


def test_a_section_is_loaded_with_its_title_config_quick_profile_and_invariants(tiny):
    spec = tiny.section("counting")
    assert (spec.name, spec.module, spec.title, spec.quick) == ("counting", "tiny_sections.counting", "Counting",
                                                                {"upto": 3})
    assert spec.config().upto == 10 and spec.invariants({"total": 1, "numbers": [2]}) != []
    assert spec.input_files(spec.config()) == {}  # it reads no data files


def test_a_section_s_input_files_are_its_own_when_it_names_them(tiny):
    source = TINY_SECTION + '\n\ndef input_files(config):\n    return {"digits": config.upto}\n'
    (tiny.root / "tiny_sections" / "withfiles.py").write_text(source)
    assert load("withfiles", "tiny_sections.withfiles").input_files(tiny.section("counting").config()) == {
        "digits": 10}


def test_a_module_that_defines_nothing_of_the_contract_is_told_everything_it_lacks(tiny):
    (tiny.root / "tiny_sections" / "empty.py").write_text('"""Nothing yet."""\n')
    with pytest.raises(UsageError) as caught:
        load("empty", "tiny_sections.empty")
    assert caught.value.message == ("section 'empty' (tiny_sections.empty) does not follow the section contract: "
                                    "it lacks Config, TITLE, QUICK, run, invariants")
    assert caught.value.hint == "define them as report.section.Section describes"


def test_the_output_folder_must_stay_out_of_templates_engine_section_packages_git_and_protected_folders(tiny):
    project = Project(root=tiny.root, sections={"a": "pkg_a.x", "b": "pkg_b", "c": "pkg_a.y"},
                      templates=tiny.root / "templates", protected=("tests", "bench"))
    root = tiny.root
    assert project.source_dirs() == sorted({root / "templates", ENGINE_DIR, root / "pkg_a", root / "pkg_b",
                                            root / ".git", root / "tests", root / "bench"})
