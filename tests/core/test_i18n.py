"""The language of gradviz's own words: which locale means which language, and the lookup."""

import pytest

from gradviz.core import i18n


@pytest.mark.parametrize("code, expected", [
    ("zh_CN.UTF-8", "zh_CN"), ("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("zh_Hans_CN", "zh_CN"),
    ("zh_SG", "zh_CN"), ("zh_TW.UTF-8", None), ("zh_Hant", None), ("en_GB.UTF-8", "en"),
    ("C", "en"), ("fr_FR", None), ("", None), (None, None),
])
def test_normalize(code, expected):
    assert i18n.normalize(code) == expected


def test_system_language_follows_gettext_order():
    assert i18n.system_language({"LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert i18n.system_language({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert i18n.system_language({"LANGUAGE": "fr:zh_CN", "LANG": "fr_FR"}) == "zh_CN"
    assert i18n.system_language({"LANG": "de_DE.UTF-8"}) == "en"
    assert i18n.system_language({}) == "en"


def test_set_language_and_lookup(monkeypatch):
    monkeypatch.setattr(i18n, "_current", "en")
    monkeypatch.setitem(i18n.catalog("zh_CN"), "Line {n}", "第 {n} 行")
    assert i18n.t("Line {n}", n=3) == "Line 3"
    assert i18n.set_language("zh-CN") == "zh_CN"
    assert i18n.language() == "zh_CN"
    assert i18n.t("Line {n}", n=3) == "第 3 行"
    assert i18n.t("no translation for this") == "no translation for this"
    with pytest.raises(ValueError, match="zh_CN"):
        i18n.set_language("klingon")
    assert i18n.language() == "zh_CN"
