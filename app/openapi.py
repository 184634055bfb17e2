"""The published OpenAPI document, shaped to the NL API Design Rules.

FastAPI generates the operations; this adds what the rules require of every operation: the
`API-Version` header on success, problem+json error responses (400 instead of 422), the server
with the major version, and the contact.
"""

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app import API_VERSION
from app.errors import PROBLEM_JSON, Problem

API_PREFIX = "/api/v1"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
HEADER_DEFINITIONS = {
    "API-Version": {"description": "The full version of this API", "schema": {"type": "string", "example": API_VERSION}},
    "X-Request-ID": {"description": "The id of this request, also in its audit events", "schema": {"type": "string"}},
}
HEADERS = {name: {"$ref": f"#/components/headers/{name}"} for name in HEADER_DEFINITIONS}
ERROR_TEXT = {
    "400": "Invalid input: every problem is listed in `errors`",
    "401": "No valid bearer token",
    "403": "Your role or scopes do not allow this operation",
    "404": "Does not exist, or is not available to you",
    "409": "Conflicts with the current state",
    "413": "Request body too large",
    "415": "The request body is not application/json",
    "429": "Too many requests: over the rate limit of your principal or address; try again after Retry-After",
    "500": "Internal error",
    "503": "The database cannot be reached for a moment; try again after Retry-After",
}
RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}
DESCRIPTION = """Case registry for the multi-agency, person-centred approach to radicalisation.

Access is need-to-know and every read of personal data is audited. Errors are RFC 9457 problem
documents; invalid input answers 400 with all errors in `errors`."""


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "headers": HEADERS, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def _shape_operation(operation: dict[str, Any], path: str) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    for code, response in responses.items():
        if code[0] in "23":
            response["headers"] = HEADERS
        elif code[0] in "45":
            responses[code] = _problem(response.get("description") or ERROR_TEXT.get(code, "Error"))
    for code in _wanted(operation, path):
        responses.setdefault(code, _problem(ERROR_TEXT[code]))
    for code in ("429", "503"):
        responses[code]["headers"] = {**HEADERS, "Retry-After": RETRY_AFTER}


def _wanted(operation: dict[str, Any], path: str) -> list[str]:
    """The errors every operation of its kind can answer; every one is rate-limited and needs the database."""
    wanted = ["400", "429", "500", "503"]
    if operation.get("security"):
        wanted += ["401", "403"]
    if "{" in path:
        wanted.append("404")
    if "requestBody" in operation:
        wanted.append("413")
        if "application/json" in operation["requestBody"].get("content", {}):
            wanted.append("415")
    return wanted


def _bound_page_size(operation: dict[str, Any], limit: int) -> None:
    """The query parameter declares the hard ceiling; the document states this registry's own limit."""
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "pageSize":
            parameter["schema"]["maximum"] = limit


def _collapse_nullable(schema: Any) -> Any:
    """`anyOf: [{type: string, format: date}, {type: null}]` becomes `type: [string, null], format: date`,
    so the format stands where the rules look for it."""
    if isinstance(schema, dict):
        options = schema.get("anyOf")
        if (isinstance(options, list) and len(options) == 2 and {"type": "null"} in options):
            other = next(o for o in options if o != {"type": "null"})
            if isinstance(other.get("type"), str) and "format" in other:
                rest = {k: v for k, v in schema.items() if k != "anyOf"}
                return {**other, **rest, "type": [other["type"], "null"]}
        return {k: _collapse_nullable(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_collapse_nullable(v) for v in schema]
    return schema


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(title="Casusregister API", version=API_VERSION, description=DESCRIPTION,
                           routes=app.routes, contact={"name": "Casusregister beheer", "url": "https://casusregister.nl",
                                                       "email": app.state.settings.contact_email})
    document["servers"] = [{"url": API_PREFIX, "description": "This registry"}]
    document["paths"] = {path.removeprefix(API_PREFIX) or "/": item for path, item in document["paths"].items()
                         if path.startswith(API_PREFIX)}
    for path, item in document["paths"].items():
        for operation in item.values():
            _shape_operation(operation, path)
            _bound_page_size(operation, app.state.settings.max_page_size)
    document.setdefault("components", {})["headers"] = HEADER_DEFINITIONS
    schemas = document["components"].setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs"))
    schemas["Problem"] = problem
    document["components"]["schemas"] = _collapse_nullable(schemas)
    return document


def render_openapi(document: dict[str, Any]) -> str:
    """The committed form: stable key order, so the drift test compares content."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
