"""The OpenAPI 3.1 document served at /api/v1/openapi.json, built from the models in bot.api.models."""

from __future__ import annotations

from typing import Any

from bot.api.models import schemas

MAX_ITEMS = 10_000
MAX_BODY_BYTES = 8 * 1024 * 1024


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: str) -> dict[str, Any]:
    reasons = {
        "400": "bad input: every problem, with the item's index and field; nothing was written",
        "401": "no token, or one that is unknown or revoked",
        "403": "the token's scope does not allow this",
        "404": "no such partner or batch",
        "413": f"more than {MAX_ITEMS:,} items or {MAX_BODY_BYTES // (1024 * 1024)} MiB of body",
        "503": "the API is busy; try again after Retry-After seconds",
    }
    return {code: _json(_ref("Error"), reasons[code]) for code in codes}


def _import(item: str, counts: str, what: str) -> dict[str, Any]:
    return {"post": {
        "summary": f"Import {what}: all or nothing, idempotent",
        "description": f"A JSON array of at most {MAX_ITEMS:,} items with the fields of the {what} import file. "
                       "Amounts may be JSON strings or numbers; numbers are read exactly.",
        "security": [{"bearer": ["write"]}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "array", "maxItems": MAX_ITEMS, "items": _ref(item)}}}},
        "responses": {"201": _json(_ref(counts), "imported (or already recorded)"),
                      **_errors("400", "401", "403", "413", "503")},
    }}


def _query(name: str, description: str, *, required: bool = False, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


def document() -> dict[str, Any]:
    read = [{"bearer": ["read"]}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Referral payouts API", "version": "1",
                 "description": "Push partners and entries; read the ledger report and the payment batches."},
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "`payouts api-token create NAME --scope read|write`"}},
        },
        "paths": {
            "/api/v1/partners": _import("PartnerItem", "PartnerCounts", "partners"),
            "/api/v1/entries": _import("EntryItem", "EntryCounts", "entries"),
            "/api/v1/ledger": {"get": {
                "summary": "The ledger report, or one partner's ledger",
                "security": read,
                "parameters": [
                    _query("range", "2015-06-01..2015-06-30, 2015-06, 2015-Q2, 2015, last-month, ytd …", required=True),
                    _query("partner", "a partner's code: that partner's ledger with a running balance"),
                ],
                "responses": {"200": _json({"oneOf": [_ref("LedgerReport"), _ref("PartnerLedger")]},
                                           "the report (PartnerLedger with `partner`)"),
                              **_errors("400", "401", "403", "404", "503")},
            }},
            "/api/v1/batches": {"get": {
                "summary": "The most recent payment batches, newest first",
                "security": read,
                "parameters": [_query("limit", "how many (default 50)", schema={"type": "integer", "minimum": 1,
                                                                                 "maximum": 1000})],
                "responses": {"200": _json({"type": "array", "items": _ref("Batch")}, "the batches"),
                              **_errors("400", "401", "403", "503")},
            }},
            "/api/v1/batches/{batch_id}": {"get": {
                "summary": "One payment batch",
                "security": read,
                "parameters": [{"name": "batch_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json(_ref("Batch"), "the batch"), **_errors("401", "403", "404", "503")},
            }},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            }},
        },
    }
