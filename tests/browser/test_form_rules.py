"""Every rule of the form definition, checked on the phone with the server's words.

The cases are made from ``forms/household.json`` itself: each kind of check it states is broken
once, the same body is posted to the API, and the phone must refuse it offline with the very
messages the API gives, beside the same field, keeping nothing in its outbox. A kind of check the
definition states but this file cannot break, or the phone's script does not know, fails.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from survey.form_rules import CHECK_KINDS, check_kinds

from .conftest import CAMPAIGN_DAY
from .test_offline_form import login, no_script_errors, ready_for_offline  # noqa: F401  (autouse)

MISSING = object()
# Kinds the form page cannot produce (its inputs hold only well-formed values): the phone's
# checker is compared with the API on the body alone.
BODY_ONLY = {"type:uuid", "type:choices", "type:date", "type:text", "type:agency"}


def base_body() -> dict:
    return {"id": str(uuid.uuid4()), "commune_code": 4789, "hamlet": "Xóm Mới", "head_name": "Bùi Văn An",
            "address": "Số 5", "members": 4, "smartphone_users": 2, "installed_before": 1,
            "installed_during_visit": 1, "reasons_not_installed": ["no_smartphone"],
            "visited_on": CAMPAIGN_DAY.date().isoformat(), "note": "ghi chú"}


def _field_cases(f: dict, first_day: dt.date) -> list[tuple[str, str, object]]:
    n, t = f["name"], f["type"]
    cases = [("type:" + t, n, {"uuid": "not-a-uuid", "integer": "1.5", "commune": 99999, "text": 7,
                               "agency": 7, "choices": "no_smartphone", "date": "15/08/2020"}[t])]
    if f.get("required"):
        cases.append(("required", n, MISSING))
    cases += [(k, n, v) for k, v in (("min", f.get("min", 0) - 1), ("max", f.get("max", 0) + 1)) if k in f]
    if f.get("min_length"):
        cases.append(("min_length", n, "   "))
    if f.get("max_length"):
        cases.append(("max_length", n, "x" * (f["max_length"] + 1)))
    if t in ("text", "agency"):
        cases.append(("bad_chars", n, "Bùi\u202eAn"))
    if f.get("choices"):
        cases.append(("choices", n, ["no_smartphone", "bogus"]))
    if f.get("not_future"):
        cases.append(("not_future", n, (CAMPAIGN_DAY.date() + dt.timedelta(days=1)).isoformat()))
    if f.get("window"):
        cases.append(("window", n, (first_day - dt.timedelta(days=1)).isoformat()))
    return cases


def violations(form, first_day: dt.date) -> list[tuple[str, str, dict]]:
    """(kind, field, body) for every check the definition states, each broken once."""
    out = []
    for f in form.fields:
        for kind, name, value in _field_cases(f, first_day):
            body = base_body()
            if value is MISSING:
                body.pop(name)
            else:
                body[name] = value
            out.append((kind, name, body))
    for rule in form.rules:
        body = base_body()
        for n in rule["at_most"]:
            body[n] = 1
        for i, n in enumerate(rule["sum"]):
            body[n] = 2 if i == 0 else 0
        out.append(("rule:sum_at_most", rule["field"], body))
    return out


def flat(found) -> list[str]:
    return found if isinstance(found, list) else [t for texts in found.values() for t in texts]


SET_FIELD = """([name, value]) => {
  const form = document.getElementById('household-form');
  if (Array.isArray(value)) {
    const box = form.querySelector(`[data-field="${name}"]`);
    for (const v of value) {
      if (!form.querySelector(`input[name="${name}"][value="${v}"]`)) {
        const label = document.createElement('label');
        label.className = 'check';
        label.innerHTML = `<input type="checkbox" name="${name}" value="${v}"> ${v}`;
        box.append(label);
      }
    }
    form.querySelectorAll(`input[name="${name}"]`).forEach((el) => { el.checked = value.includes(el.value); });
    return;
  }
  const el = form.elements[name];
  if (el.tagName === 'SELECT' && !Array.from(el.options).some((o) => o.value === String(value ?? ''))) {
    el.append(new Option(String(value ?? ''), String(value ?? '')));
  }
  el.value = value == null ? '' : String(value);
  el.dispatchEvent(new Event('input', {bubbles: true}));
}"""


def fill_body(page, form, body: dict) -> None:
    for f in form.fields:
        if f.get("widget") != "hidden":
            page.evaluate(SET_FIELD, [f["name"], body.get(f["name"])])


@pytest.fixture
def campaign_clock(camp, monkeypatch):
    """The API judges "today" by the same day as the phone's clock."""
    monkeypatch.setattr(camp, "now", lambda: CAMPAIGN_DAY)
    return camp


def test_the_phone_knows_every_kind_of_check(live_server, phone, camp):
    page = phone.new_page()
    login(page, live_server.url)
    # the date field offers only the campaign's days, none after the phone's today (15/8/2020)
    assert (page.get_attribute("#visited_on", "min"), page.get_attribute("#visited_on", "max")) == (
        "2020-08-10", "2020-08-15")
    known = set(page.evaluate("() => BZ.checks.KINDS"))
    stated = check_kinds(camp.form) | check_kinds(camp.agency_form)
    assert stated <= set(CHECK_KINDS), f"checks the server does not list: {stated - set(CHECK_KINDS)}"
    assert stated <= known, f"the definition states checks the phone does not run: {stated - known}"
    assert set(CHECK_KINDS) <= known
    broken = {kind for kind, _, _ in violations(camp.form, camp.visit_window()[0])}
    assert check_kinds(camp.form) <= broken, f"no case breaks: {check_kinds(camp.form) - broken}"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_each_rule_broken_once_is_refused_offline_with_the_apis_words(live_server, phone, api, campaign_clock,
                                                                       shot, lang):
    camp = campaign_clock
    page = phone.new_page()
    login(page, live_server.url)
    ready_for_offline(page)
    page.goto(f"{live_server.url}/form?lang={lang}")
    ready_for_offline(page)
    phone.set_offline(True)
    order = [f["name"] for f in camp.form.fields]
    for kind, name, body in violations(camp.form, camp.visit_window()[0]):
        answer = api.post(f"/api/v1/households?lang={lang}", body)
        assert answer.status_code == 422, (kind, answer.get_json())
        expected = answer.get_json()["fields"]
        assert name in expected, (kind, expected)
        phone_says = page.evaluate("""(body) => BZ.checks.run(JSON.parse(document.getElementById('household-form').dataset.rules),
            body, {today: BZ.today(), communes: [4789]})""", {k: v for k, v in body.items()})
        assert phone_says == expected, kind
        if kind in BODY_ONLY:
            continue
        fill_body(page, camp.form, body)
        sent = page.evaluate("() => BZ.formRecord()")  # what the page would send: post that too
        answer = api.post(f"/api/v1/households?lang={lang}", sent)
        assert answer.status_code == 422 and name in answer.get_json()["fields"], (kind, sent)
        expected = answer.get_json()["fields"]
        page.click("button[type=submit].primary")
        page.wait_for_selector("#error-summary", state="visible")
        for field, found in expected.items():
            box = f"[data-field={field}]"
            assert page.inner_text(f"{box} .err") == " ".join(flat(found)), (kind, field)
            described = page.get_attribute(f"{box} [aria-describedby], {box}[aria-describedby]", "aria-describedby")
            assert described == f"{field}-err"
        first = min(expected, key=order.index)
        assert page.evaluate("() => document.activeElement.name") == first, kind
        assert page.locator(f"#error-list a[href='#{first}']").count() == 1
        assert page.get_attribute(f"#{first}", "aria-invalid") in ("true", None)  # a fieldset has none
        if kind == "rule:sum_at_most" and lang == "vi":
            shot(page, "refused-on-the-phone")
    assert page.evaluate("() => BZ.store.all('outbox').then((items) => items.length)") == 0
    assert list(camp.households.records([4789])) == []
