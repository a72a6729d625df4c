"""Which encoding the bytes of a CSV file are in: UTF-8 (Excel's "CSV UTF-8") or GB18030 (Excel's
"CSV" on Chinese Windows).

Short Chinese text in GB18030 is sometimes valid UTF-8 too (`山木实业` reads as `ɽľʵҵ`), so a file
that decodes both ways is not taken as UTF-8 on trust: each reading is scored by how much of its
non-ASCII text is common Chinese, and a file whose readings cannot be told apart is refused with a
request to state the encoding. A byte order mark settles the question, and so does an encoding the
user states.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

UTF_8 = "UTF-8"
GB18030 = "GB18030"

# A byte order mark names its encoding; Python's codec of that name removes it.
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", UTF_8),
    (b"\x84\x31\x95\x33", "gb18030", GB18030),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)

# A reading at least this Chinese (see _chinese_share) is Chinese text; one below NOT_CHINESE is not.
CHINESE = 0.5
NOT_CHINESE = 0.2


class EncodingUnknown(ValueError):
    """The bytes cannot be decoded, or not decided between; the message asks for what would help."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # as people name it: "UTF-8", "GB18030", or the name the user gave


def decode_text(content: bytes, *, encoding: str | None = None) -> DecodedText:
    """The text of the WHOLE content, in the encoding stated, the one its BOM names, or the one found."""
    if encoding:
        return _decode_as(content, encoding)
    for bom, codec, label in BOMS:
        if content.startswith(bom):
            return _decode_as(content, codec, label=label)
    readings = {}
    for codec, label in (("utf-8", UTF_8), ("gb18030", GB18030)):
        try:
            readings[label] = content.decode(codec)
        except UnicodeDecodeError:
            continue
    if not readings:
        raise EncodingUnknown(_("The file is neither UTF-8 nor GB18030 text; save it as CSV UTF-8."))
    if len(readings) == 1 or readings[UTF_8] == readings[GB18030]:  # one reading, or plain ASCII
        label, text = next(iter(readings.items()))
        return DecodedText(text, label)
    as_utf8, as_gb18030 = _chinese_share(readings[UTF_8]), _chinese_share(readings[GB18030])
    # Valid UTF-8 that reads as Chinese is UTF-8: GB18030 bytes almost never form it by chance.
    if as_utf8 >= CHINESE:
        return DecodedText(readings[UTF_8], UTF_8)
    # The GB18030 reading is Chinese while the UTF-8 one is scattered over unrelated scripts: the
    # mojibake case. A UTF-8 reading made only of accented Latin letters may be real (Nestlé), so
    # that one is left to the user.
    if as_gb18030 >= CHINESE and as_utf8 <= NOT_CHINESE and not _plausible_latin(readings[UTF_8]):
        return DecodedText(readings[GB18030], GB18030)
    raise EncodingUnknown(
        _(
            "The file reads as valid text both in UTF-8 and in GB18030 and it cannot be told which is "
            'meant (for example "%(utf8)s" or "%(gb18030)s"); state the encoding.'
        )
        % {"utf8": _sample(readings[UTF_8]), "gb18030": _sample(readings[GB18030])}
    )


def _decode_as(content: bytes, codec: str, *, label: str | None = None) -> DecodedText:
    label = label or codec.upper()
    try:
        info = codecs.lookup(codec)
    except LookupError:
        unknown = _("%(encoding)s is not an encoding this system knows.") % {"encoding": codec}
        raise EncodingUnknown(unknown) from None
    if info.name == "utf-8":
        codec = "utf-8-sig"  # a stated UTF-8 may still carry Excel's BOM
    try:
        text = content.decode(codec)
    except UnicodeDecodeError as exc:
        raise EncodingUnknown(
            _("The file is not valid %(encoding)s text (byte %(position)s).")
            % {"encoding": label, "position": exc.start}
        ) from None
    return DecodedText(text.removeprefix("\ufeff"), label)


def _chinese_share(text: str) -> float:
    """How much of the text's non-ASCII characters are common Chinese (0 to 1).

    Common hanzi (GB2312) and Chinese punctuation count fully, rarer CJK ideographs a quarter (a
    misread often lands on them), anything else (Latin-1, Latin Extended, IPA, Cyrillic, private use,
    controls) nothing."""
    weights = [_weight(character) for character in text if not character.isascii()]
    return sum(weights) / len(weights) if weights else 0.0


def _weight(character: str) -> float:
    code = ord(character)
    if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E or 0x2010 <= code <= 0x2027:
        return 1.0  # CJK punctuation, full-width forms, dashes, quotes and the ellipsis
    try:
        gb2312 = character.encode("gb2312")
    except UnicodeEncodeError:
        return 0.25 if unicodedata.name(character, "").startswith("CJK UNIFIED IDEOGRAPH") else 0.0
    return 1.0 if gb2312[0] >= 0xB0 else 0.0  # rows B0-F7 are the hanzi, the rows before symbols


def _plausible_latin(text: str) -> bool:
    """Every non-ASCII character is a Latin-1 sign (©, °, no-break space) or a letter of Latin-1 or
    Latin Extended-A (é, ü, ł)."""
    return all(character.isascii() or 0xA0 <= ord(character) <= 0x17F for character in text)


def _sample(text: str) -> str:
    """The first line with a non-ASCII character, shortened."""
    for line in text.splitlines():
        if not line.isascii():
            return line.strip()[:40]
    return ""
