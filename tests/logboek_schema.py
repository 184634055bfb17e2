"""The standard's record (tests/logboek_record.schema.json), to check the Logboek Dataverwerkingen export by."""

import json
from pathlib import Path

from jsonschema import Draft202012Validator

SCHEMA = json.loads((Path(__file__).parent / "logboek_record.schema.json").read_text(encoding="utf-8"))


def validator() -> Draft202012Validator:
    return Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
