"""resource_path finds resources/ from the checkout, and example_paths lists the lessons in order."""

from pathlib import Path

import pytest

from gradviz.core.resources import example_paths, resource_path, resources_root

CHECKOUT = Path(__file__).resolve().parents[2]


def test_resources_root_is_the_checkout_folder():
    assert resources_root() == CHECKOUT / "resources"


def test_resource_path_joins_parts():
    path = resource_path("examples", "01-two-x-squared.gradviz")
    assert path == CHECKOUT / "resources" / "examples" / "01-two-x-squared.gradviz"
    assert path.is_file()


@pytest.mark.parametrize("parts", [("..", "pyproject.toml"), ("examples", "..", "..", "README.md"), ("/etc/passwd",)])
def test_resource_path_stays_inside_resources(parts):
    with pytest.raises(ValueError, match="stay inside resources"):
        resource_path(*parts)


def test_example_paths_are_sorted_lesson_files():
    paths = example_paths()
    names = [p.name for p in paths]
    assert len(paths) >= 8
    assert names == sorted(names)
    assert names[0] == "01-two-x-squared.gradviz"
    assert all(p.suffix == ".gradviz" and p.is_file() for p in paths)
    assert [n[:2] for n in names] == [f"{i:02d}" for i in range(1, len(names) + 1)]


def test_installed_layout_is_preferred(tmp_path, monkeypatch):
    """In a wheel, resources live at gradviz/resources (pyproject force-include)."""
    from gradviz.core import resources as module

    package = tmp_path / "site-packages" / "gradviz"
    (package / "resources" / "examples").mkdir(parents=True)
    (package / "resources" / "examples" / "01-a.gradviz").write_text("{}", encoding="utf-8")
    (tmp_path / "site-packages" / "resources").mkdir()  # some other package's folder: ignored
    monkeypatch.setattr(module, "_PACKAGE", package)
    module.resources_root.cache_clear()
    try:
        assert resources_root() == package / "resources"
        assert example_paths() == [package / "resources" / "examples" / "01-a.gradviz"]
    finally:
        module.resources_root.cache_clear()


def test_stray_site_packages_resources_folder_is_not_taken(tmp_path, monkeypatch):
    from gradviz.core import resources as module

    package = tmp_path / "site-packages" / "gradviz"
    package.mkdir(parents=True)
    (tmp_path / "site-packages" / "resources").mkdir()  # no pyproject.toml beside it
    monkeypatch.setattr(module, "_PACKAGE", package)
    module.resources_root.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="gradviz resources not found"):
            resources_root()
    finally:
        module.resources_root.cache_clear()


def test_resources_module_touches_no_qt():
    source = (CHECKOUT / "gradviz" / "core" / "resources.py").read_text(encoding="utf-8")
    assert "PySide6" not in source and "QPixmap" not in source and "QIcon" not in source


def test_lesson_pack_paths_give_the_pack_of_a_language_in_order():
    from gradviz.core.resources import lesson_pack_languages, lesson_pack_paths

    assert lesson_pack_languages() == ["en", "zh_CN"]
    zh, en = lesson_pack_paths("zh_CN"), lesson_pack_paths("en")
    assert zh[0] == CHECKOUT / "resources" / "examples" / "d2l" / "zh_CN" / "01-dot-product.gradviz"
    assert [p.name for p in zh] == [p.name for p in en] == sorted(p.name for p in en)
    assert len(zh) >= 9 and all(p.is_file() for p in zh + en)
    assert lesson_pack_paths("fr") == en  # no pack in that language: the English one
    assert not set(zh + en) & set(example_paths())  # the classic lessons stay where they were


def test_shipped_lesson_paths_are_the_classic_lessons_and_every_pack():
    from gradviz.core.resources import lesson_pack_paths, shipped_lesson_paths

    assert shipped_lesson_paths() == example_paths() + lesson_pack_paths("en") + lesson_pack_paths("zh_CN")
