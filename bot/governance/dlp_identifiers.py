"""Checksum validators for the identifiers the DLP layer detects (pure functions, no state).

Each validator takes the *compact* form (separators removed) and returns whether the
checksum holds: a look-alike whose checksum fails is not personal data to hide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

_DIGITS = re.compile(r"\d+")
_NIR = re.compile(r"[1-478]\d{4}(?:\d{2}|2[AB])\d{8}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")

# ISO 13616 IBAN lengths by country (SWIFT registry); other countries: 15–34 characters.
IBAN_LENGTHS: Mapping[str, int] = MappingProxyType({
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
})

LA_POSTE_SIREN = "356000000"


def compact(value: str) -> str:
    """``"FR76 3000-6000.01"`` → ``"FR76300060001"`` (letters upper-cased)."""
    return "".join(char for char in value if char.isalnum()).upper()


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) checksum over a string of digits."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def nir_key(first13: str) -> int:
    """The NIR key of 13 characters; Corsica 2A/2B count as 19/18."""
    first13 = first13.upper()
    corsica = {"2A": "19", "2B": "18"}.get(first13[5:7])
    if corsica is not None:
        first13 = first13[:5] + corsica + first13[7:]
    return 97 - int(first13) % 97


def nir_valid(value: str) -> bool:
    """French social-security number (15 characters, key = 97 − (first 13 mod 97))."""
    value = value.upper()
    if not _NIR.fullmatch(value):
        return False
    return nir_key(value[:13]) == int(value[13:])


def iban_valid(value: str) -> bool:
    """ISO 13616 IBAN: known length for the country, and mod 97 == 1."""
    value = value.upper()
    if not _IBAN.fullmatch(value):
        return False
    expected = IBAN_LENGTHS.get(value[:2])
    if expected is not None and len(value) != expected:
        return False
    rearranged = value[4:] + value[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def siren_valid(value: str) -> bool:
    """SIREN: 9 digits, Luhn."""
    return len(value) == 9 and luhn_valid(value)


def siret_valid(value: str) -> bool:
    """SIRET: 14 digits, Luhn; La Poste's (SIREN 356000000) digit sum divisible by 5."""
    if len(value) != 14 or not value.isdigit():
        return False
    if value.startswith(LA_POSTE_SIREN):
        return sum(int(char) for char in value) % 5 == 0
    return luhn_valid(value)


def card_valid(value: str) -> bool:
    """Payment card, Luhn: 13–19 digits from 2–6; 15 digits only Amex (34, 37), 14 Diners (3x)."""
    if not 13 <= len(value) <= 19 or not luhn_valid(value):
        return False
    if len(value) == 15:
        return value[:2] in {"34", "37"}
    if len(value) == 14:
        return value[:2] in {"30", "36", "38", "39"}
    return value[:1] in "23456"


def luhn_complete(partial: str) -> str:
    """``partial`` followed by the Luhn check digit that makes it valid."""
    for digit in "0123456789":
        if luhn_valid(partial + digit):
            return partial + digit
    raise AssertionError("unreachable: one digit always completes a Luhn number")


def iban_complete(country: str, bban: str) -> str:
    """The IBAN of ``bban`` in ``country`` with its check digits computed."""
    number = "".join(str(int(char, 36)) for char in (bban + country).upper() + "00")
    return f"{country.upper()}{98 - int(number) % 97:02d}{bban.upper()}"
