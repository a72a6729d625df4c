"""Customer codes as people type them and as the system compares them.

`D-1`, `d-1` and the full-width `Ｄ-1` (typed with a Chinese input method) are one customer: codes are
compared by their key, which folds compatibility forms (NFKC), case and surrounding space. The code
as typed stays what is displayed; the key is stored beside it and is unique in the database.
"""

import unicodedata


def customer_code_key(code: str) -> str:
    # NFKC again after casefold: folding can produce characters that NFKC would still change.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", code).casefold()).strip()
