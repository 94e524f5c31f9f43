"""Trust, where the engine cannot be contained: shipped lessons and programs the user trusted once."""

from __future__ import annotations

from gradviz.core.resources import example_paths, lesson_pack_paths
from gradviz.core.trust import TrustStore, fingerprint, is_shipped_lesson, is_trusted


def test_shipped_lessons_are_trusted_and_other_files_are_not(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    lesson = example_paths()[0]
    copy = tmp_path / lesson.name
    copy.write_bytes(lesson.read_bytes())
    assert is_shipped_lesson(lesson) and is_trusted(lesson, "anything")
    assert not is_shipped_lesson(copy) and not is_trusted(copy, "print(1)")
    assert is_trusted(copy, "print(1)", told=True)
    assert not is_shipped_lesson(None)


def test_the_d2l_lessons_are_shipped_lessons_in_every_language(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for lang in ("zh_CN", "en"):
        lesson = lesson_pack_paths(lang)[-1]
        copy = tmp_path / lang / lesson.name
        copy.parent.mkdir()
        copy.write_bytes(lesson.read_bytes())
        assert is_shipped_lesson(lesson) and is_trusted(lesson, "anything")
        assert not is_shipped_lesson(copy) and not is_trusted(copy, "print(2)")


def test_a_trusted_program_is_remembered_by_its_text(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    store = TrustStore()
    assert store.path == tmp_path / "config" / "gradviz" / "trusted.json"
    assert not store.is_trusted("print(1)")
    store.trust("print(1)")
    assert store.is_trusted("print(1)") and not store.is_trusted("print(2)")
    assert is_trusted(tmp_path / "elsewhere.py", "print(1)")
    assert list(store.path.parent.iterdir()) == [store.path]  # written atomically: no temp file left
    store.trust("print(1)")
    assert store.path.read_text().count(fingerprint("print(1)")) == 1


def test_a_damaged_store_trusts_nothing_and_is_rewritten(tmp_path):
    store = TrustStore(tmp_path / "trusted.json")
    for damaged in ("{not json", '{"a": 1}', '["short", 3]'):
        store.path.write_text(damaged)
        assert not store.is_trusted("x")
    store.trust("x")
    assert store.is_trusted("x")
