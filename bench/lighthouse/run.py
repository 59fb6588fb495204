"""Lighthouse 12 (mobile) on the login, form and dashboard pages, over gunicorn with 2,000 households.

    npm ci --prefix bench/lighthouse && PYTHONPATH=. .venv/bin/python bench/lighthouse/run.py

Chromium is Debian's (CHROME_PATH=/usr/bin/chromium). Prints and writes the scores to
bench/results/lighthouse.json; BENCHMARKS.md keeps the figures.
"""
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import requests

from survey import create_app
from survey.demo import households_for
from tests.conftest import PASSWORD, LiveServer

HERE = Path(__file__).resolve().parent
LH = str(HERE / "node_modules" / ".bin" / "lighthouse")
OUT = HERE.parent / "results"
OUT.mkdir(exist_ok=True)
d = Path(tempfile.mkdtemp()) / "data"
app = create_app({"SURVEY_DATA_DIR": str(d), "SECRET_KEY": "test"})
with app.app_context():
    camp = app.extensions["survey"]
    camp.users.add("officer", PASSWORD, "officer", 4789)
    camp.users.add("department", PASSWORD, "department", None)
    for commune, records in households_for(camp.gazetteer, 2000, seed=5):
        camp.households.bulk_insert(commune, records)
srv = LiveServer(d, workers=2).start()
def cookie(user):
    s = requests.Session()
    page = s.get(srv.url + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    s.post(srv.url + "/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    return "; ".join(f"{k}={v}" for k, v in s.cookies.items())
out = {}
try:
    pages = [("login", "/login", None), ("form", "/form", "officer"), ("dashboard", "/dashboard", "department")]
    for name, path, user in pages:
        args = [LH, srv.url + path, "--output=json", f"--output-path={OUT}/{name}.json",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu", "--quiet",
                "--only-categories=performance,accessibility,best-practices"]
        if user:
            args.append("--extra-headers=" + json.dumps({"Cookie": cookie(user)}))
        subprocess.run(args, env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"}, timeout=240)
        r = json.load(open(f"{OUT}/{name}.json"))
        out[name] = {k: round(v["score"] * 100) for k, v in r["categories"].items()}
        out[name]["cls"] = r["audits"]["cumulative-layout-shift"]["numericValue"]
        out[name]["lcp_ms"] = round(r["audits"]["largest-contentful-paint"]["numericValue"])
        out[name]["url"] = r["finalDisplayedUrl"]
        fails = [a for a, v in r["audits"].items()
                 if v.get("score") is not None and v["score"] < 1 and v.get("scoreDisplayMode") == "binary"]
        out[name]["failed"] = fails
        print(name, out[name], flush=True)
finally:
    srv.stop()
json.dump(out, open(f"{OUT}/lighthouse.json", "w"), indent=1)
