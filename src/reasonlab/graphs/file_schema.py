"""The graph/flowchart file format as a JSON Schema (draft 2020-12); `loading.py` checks files against it."""

from __future__ import annotations

from typing import Any

from .spec import ANSWER_KINDS, ID_RE, JOINS, TYPES

_COND = {"oneOf": [
    {"type": "string", "minLength": 1},
    {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
     "properties": {"if": {"type": "string", "minLength": 1}, "expr": {"type": "string", "minLength": 1},
                    "ask": {"type": "string", "minLength": 1}}},
]}
_ID = {"type": "string", "pattern": ID_RE}
_TEMPLATE = {"type": "string"}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "reasonlab graph or flowchart",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": ["graph", "flowchart"]},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "inputs": {"oneOf": [
            {"type": "array", "items": _ID},
            {"type": "object", "propertyNames": {"pattern": ID_RE}, "additionalProperties": {"oneOf": [
                {"$ref": "#/$defs/var"}, {"type": ["string", "number", "boolean", "array", "null"]}]}},
        ]},
        "state": {"type": "object", "propertyNames": {"pattern": ID_RE}, "additionalProperties": {"oneOf": [
            {"$ref": "#/$defs/var"}, {"enum": list(TYPES)}]}},
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "output": _ID,
        "start": _ID,
        "max_steps": {"type": "integer", "minimum": 1},
        "concurrency": {"type": "integer", "minimum": 1, "maximum": 256},
    },
    "$defs": {
        "var": {"type": "object", "additionalProperties": False, "properties": {
            "type": {"enum": list(TYPES)}, "default": {}, "required": {"type": "boolean"},
            "join": {"enum": list(JOINS)}, "description": {"type": "string"}}},
        "cond": _COND,
        "node": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": _ID,
                "label": {"type": "string"},
                "ask": _TEMPLATE,
                "answer": {"enum": list(ANSWER_KINDS)},
                "system": {"type": "string"},
                "max_tokens": {"type": "integer", "minimum": 1, "maximum": 32768},
                "temperature": {"type": "number", "minimum": 0, "maximum": 5},
                "instruct": {"type": "boolean"},
                "compute": {"oneOf": [{"type": "string", "minLength": 1},
                                      {"type": "object", "minProperties": 1,
                                       "propertyNames": {"pattern": ID_RE},
                                       "additionalProperties": {"type": "string", "minLength": 1}}]},
                "tool": {"type": "string", "minLength": 1},
                "args": {"type": "object"},
                "after": {"oneOf": [_ID, {"type": "array", "items": _ID}]},
                "set": _ID,
                "next": _ID,
                "branch": {"$ref": "#/$defs/cond"},
                "then": _ID,
                "else": _ID,
                "loop": {"type": "object", "additionalProperties": False, "required": ["body", "max"],
                         "properties": {
                             "body": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}},
                             "max": {"type": "integer", "minimum": 1, "maximum": 100000},
                             "until": {"$ref": "#/$defs/cond"},
                             "start": _TEMPLATE,
                             "carry": _ID,
                             "on_max": {"enum": ["stop", "error"]}}},
                "parallel": {"type": "array", "minItems": 1,
                             "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}}},
                "output": {"type": ["string", "number", "boolean"]},
            },
        },
    },
}
