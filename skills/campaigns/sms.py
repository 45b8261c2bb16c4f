"""SMS length: GSM 03.38 (7-bit) or UCS-2 encoding and the number of segments."""

from __future__ import annotations

from dataclasses import dataclass

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SmsLength:
    """How an SMS text is encoded and sent."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7, extension characters count two) or UTF-16 code units
    segments: int
    per_segment: int  # characters per segment at this length
    non_gsm: tuple[str, ...]  # the characters that force UCS-2

    @property
    def single_limit(self) -> int:
        """The length of a one-segment message in this encoding."""
        return 160 if self.encoding == "GSM-7" else 70


def measure(text: str) -> SmsLength:
    """Encoding, length and segments of ``text`` (160/153 GSM-7, 70/67 UCS-2)."""
    non_gsm = tuple(dict.fromkeys(ch for ch in text
                                  if ch not in _GSM_BASIC and ch not in _GSM_EXTENDED))
    if not non_gsm:
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SmsLength(encoding, units, 1 if units else 0, single, non_gsm)
    return SmsLength(encoding, units, -(-units // multi), multi, non_gsm)
