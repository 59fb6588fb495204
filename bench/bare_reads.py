"""The ceiling for reads: a bare Flask app that answers a GET with a small JSON echo, nothing else."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/api/v1/aggregates")
def echo():
    """What any Flask GET pays before reading anything: routing, the query string, a JSON answer."""
    return jsonify({"level": request.args.get("level"), "rows": []})


@app.get("/healthz")
def healthz():
    """Lets the benchmark know the server is up."""
    return {"status": "ok"}
