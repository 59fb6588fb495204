"""The ceiling: a bare Flask app that parses the JSON body and answers 201, nothing else."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/households")
def create():
    """What any Flask endpoint pays before storing anything: routing, parsing, answering."""
    body = request.get_json()
    return jsonify({"id": body.get("id")}), 201


@app.get("/healthz")
def healthz():
    """Lets the benchmark know the server is up."""
    return {"status": "ok"}
