"""GS1 identification keys: pure validation, normalisation and construction (no database).

GTINs are stored as 14 digits, GLNs as 13, SSCCs as 18; lot and serial follow GS1 AIs 10/21.
"""

from truyxuat.gs1.identifiers import (
    gln_matches_prefix,
    gs1_check_digit,
    gtin_display,
    gtin_matches_prefix,
    is_vietnam_prefix,
    make_gln,
    make_gtin13,
    normalize_company_prefix,
    normalize_gln,
    normalize_gtin,
    normalize_sscc,
    validate_lot,
    validate_serial,
)

__all__ = [
    "gln_matches_prefix",
    "gs1_check_digit",
    "gtin_display",
    "gtin_matches_prefix",
    "is_vietnam_prefix",
    "make_gln",
    "make_gtin13",
    "normalize_company_prefix",
    "normalize_gln",
    "normalize_gtin",
    "normalize_sscc",
    "validate_lot",
    "validate_serial",
]
