"""Every rule's basis (依据), penalty basis (处理依据) and advice (处理建议): cited laws exist in the
laws table, articles are named, both languages are filled in, the catalogue shows them, and a
basis that depends on the evidence date picks the law version in force."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from auditlib.rules import laws
from auditlib.rules.catalogue import all_rules, get_rule, render_catalogue

RULES = all_rules()
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_basis_names_a_law_and_an_article(rule):
    assert laws.cited(rule.basis), f"{rule.id}: no 《law》 in its basis"
    assert laws.articles(rule.basis), f"{rule.id}: no article (第…条) in its basis"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_cited_law_is_in_the_laws_table(rule):
    for text in (rule.basis, rule.penalty_basis):
        assert not laws.unknown_laws(text), f"{rule.id}: unknown law in {text!r}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_penalty_basis_when_given_names_a_law_and_an_article(rule):
    if rule.penalty_basis:
        assert laws.cited(rule.penalty_basis) and laws.articles(rule.penalty_basis), rule.id


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_advice_in_both_languages(rule):
    assert rule.advice("zh").strip() and HAN.search(rule.advice("zh")), rule.id
    assert rule.advice("en").strip() and not HAN.search(rule.advice("en")), rule.id


def test_a_misspelt_law_is_caught():
    assert laws.unknown_laws("《预算发》第十三条；《会计法》第十六条") == ["预算发"]
    assert laws.articles("《会计法》第十六条、第二十四条第（二）项") == ["第十六条", "第二十四条"]


def test_the_laws_table_holds_only_laws_the_rules_cite():
    cited = {law.short for law in laws.laws_cited(RULES)}
    assert cited == set(laws.LAWS)


@pytest.mark.parametrize("short", sorted(laws.LAWS))
def test_each_law_has_a_title_issuer_and_dated_first_version(short):
    law = laws.LAWS[short]
    assert law.title and law.issuer and law.kind and law.versions
    dated = [v.effective for v in law.versions if v.effective]
    assert dated == sorted(dated)
    assert law.title in law.describe("zh") and law.current.document in law.describe("en")


def test_sme_regulation_version_by_date():
    law = laws.LAWS["保障中小企业款项支付条例"]
    assert law.version_on(dt.date(2025, 5, 31)).document == "国务院令第728号"
    assert law.version_on(dt.date(2025, 6, 1)).document == "国务院令第802号"
    assert law.version_on(dt.date(2020, 8, 31)) is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_catalogue_shows_basis_penalty_basis_and_advice(lang):
    text = render_catalogue(lang)
    for word in (("依据", "处理依据", "处理建议") if lang == "zh" else ("basis", "penalty basis", "advice")):
        assert f"{word}: " in text
    blocks = re.split(r"\n(?=(?:IF|SF|DP)\d\d  )", text)
    for rule in RULES:
        block = next(b for b in blocks if b.startswith(f"{rule.id}  "))
        assert rule.basis in block and rule.advice(lang) in block, rule.id
        if rule.penalty_basis:
            assert rule.penalty_basis in block, rule.id
        else:
            assert ("（无）" if lang == "zh" else "(none)") in block, rule.id


@pytest.mark.parametrize("rule_id", sorted(r.id for r in RULES if r.basis_versions))
def test_dated_basis_cites_the_version_in_force(rule_id):
    rule = get_rule(rule_id)
    before, after = dt.date(2025, 5, 31), dt.date(2025, 6, 1)
    old, new = rule.basis_for(before), rule.basis_for(after)
    assert "2020年版" in old[0] and "2025年修订版" in new[0]
    assert rule.basis_for(None) == new and rule.basis_for(dt.date(2019, 1, 1)) == old
    for basis, penalty in (old, new):
        assert not laws.unknown_laws(basis + penalty) and laws.articles(basis)
        # the rule's own text names every article of every version
        for article in laws.articles(basis):
            assert article in rule.basis, (rule_id, article)
        assert laws.articles(penalty) or not rule.penalty_basis
        for article in laws.articles(penalty):
            assert article in rule.penalty_basis, (rule_id, article)


def test_late_payment_articles_by_version():
    rule = get_rule("DP01")
    old, _ = rule.basis_for(dt.date(2024, 12, 31))
    new, _ = rule.basis_for(dt.date(2025, 7, 1))
    assert laws.articles(old) == ["第八条", "第九条", "第十五条"]
    assert laws.articles(new) == ["第九条", "第十条", "第十七条"]


def test_undated_rule_keeps_its_own_basis():
    rule = get_rule("SF05")
    assert not rule.basis_versions
    assert rule.basis_for(dt.date(2024, 1, 1)) == (rule.basis, rule.penalty_basis)
