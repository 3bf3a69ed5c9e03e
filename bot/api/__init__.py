"""The HTTP API (SPEC §11): one more transport over the import, ledger and batch use-cases.

Loaded only by `payouts serve`, so the command line never pays for pydantic at start-up.
"""
