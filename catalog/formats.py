"""How the admin pages of both apps write numbers (recognition's admin imports this, not catalog's admin)."""

from __future__ import annotations


def thousands(number: int | None) -> str:
    """12345 -> "12,345": counts of fingerprints and hashes run to millions."""
    return "" if number is None else f"{number:,}"
