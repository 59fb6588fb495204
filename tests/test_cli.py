"""The command line: accounts, tokens, the demo campaign, exports."""

from __future__ import annotations

import csv

from openpyxl import load_workbook


def test_users_add_reads_the_password_from_stdin(runner, camp):
    r = runner.invoke(args=["users", "add", "xa-4792", "--role", "officer", "--unit", "4792", "--password-stdin"],
                      input="a good password\n")
    assert r.exit_code == 0, r.output
    assert camp.users.authenticate("xa-4792", "a good password").communes == frozenset([4792])


def test_users_add_refuses_a_unit_of_the_wrong_kind(runner):
    r = runner.invoke(args=["users", "add", "x1", "--role", "officer", "--unit", "148", "--password-stdin"],
                      input="a good password\n")
    assert r.exit_code != 0 and "code of a commune" in r.output
    r = runner.invoke(args=["users", "add", "x2", "--role", "district", "--password-stdin"], input="a good password\n")
    assert r.exit_code != 0 and "district" in r.output


def test_users_add_refuses_short_passwords_and_duplicates(runner):
    assert "8 characters" in runner.invoke(args=["users", "add", "x3", "--role", "department", "--password-stdin"],
                                           input="short\n").output
    assert "exists" in runner.invoke(args=["users", "add", "officer", "--role", "department", "--password-stdin"],
                                     input="a good password\n").output


def test_token_is_one_line_and_works(runner, client):
    r = runner.invoke(args=["users", "token", "district"])
    token = r.output.strip()
    assert r.exit_code == 0 and "\n" not in token
    assert client.get("/api/v1/households", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["users", "token", "nobody"]).exit_code != 0


def test_demo_fills_the_province_and_prints_accounts(runner, camp):
    r = runner.invoke(args=["demo", "--households", "600"])
    assert r.exit_code == 0, r.output
    assert "so-tttt" in r.output
    total = camp.households.count(camp.gazetteer.communes)
    assert 550 <= total <= 650
    lines = (camp.data_dir / "demo-accounts.txt").read_text().splitlines()
    assert len(lines) == 1 + 10 + 151 + len(camp.agencies.codes())   # and one per reporting agency
    username, role, password = lines[0].split("\t")
    assert camp.users.authenticate(username, password).role == "department"
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "already" in again.output and camp.households.count(camp.gazetteer.communes) == total


def test_exports_from_the_command_line(runner, camp, tmp_path):
    runner.invoke(args=["demo", "--households", "300"])
    out = tmp_path / "d.csv"
    assert runner.invoke(args=["export", "aggregates", "--level", "district", "--out", str(out)]).exit_code == 0
    rows = list(csv.reader(open(out, encoding="utf-8-sig")))
    assert len(rows) == 11 and sum(int(r[2]) for r in rows[1:]) == camp.households.count(camp.gazetteer.communes)
    xlsx = tmp_path / "a.xlsx"
    runner.invoke(args=["export", "aggregates", "--format", "xlsx", "--out", str(xlsx)])
    assert len(load_workbook(xlsx).sheetnames) == 4
    hh = tmp_path / "h.csv"
    runner.invoke(args=["export", "households", "--district", "148", "--out", str(hh)])
    assert len(list(csv.reader(open(hh, encoding="utf-8-sig")))) - 1 == camp.households.count(camp.gazetteer.communes_of[148])
