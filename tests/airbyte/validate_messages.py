#!/usr/bin/env python3
"""Validates every line of a file against #/definitions/AirbyteMessage of the Airbyte protocol's
official JSON Schema (airbyte_protocol.yaml, draft-07 written as YAML).

usage: validate_messages.py SCHEMA.yaml MESSAGES.jsonl
Prints one line per invalid message (line number, the failing path and the reason) and exits 1
if any line is invalid, 0 if all are valid, 2 if the schema or the validator is unavailable."""
import json
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # the Debian packages python3-jsonschema and python3-yaml
    print(f"validator unavailable: {e}")
    sys.exit(2)

schema_file, messages_file = sys.argv[1], sys.argv[2]
with open(schema_file) as f:
    protocol = yaml.safe_load(f)
schema = {"$ref": "#/definitions/AirbyteMessage", "definitions": protocol["definitions"]}
validator = jsonschema.Draft7Validator(schema)
bad = 0
with open(messages_file) as f:
    for n, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"line {n}: not JSON: {e}")
            bad += 1
            continue
        for error in validator.iter_errors(message):
            print(f"line {n}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
            bad += 1
sys.exit(1 if bad else 0)
