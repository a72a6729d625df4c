"""Text that goes into a cell of a spreadsheet the system writes (CSV or Excel exports).

Imported text is stored exactly as it was given, including text that a spreadsheet program would take
for a formula (`=HYPERLINK(...)`, `+1+cmd|...`, `@SUM(...)`). Every export passes text through
`neutralised_cell_text`, so that opening an export never runs what someone typed.
"""

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula, including a tab or a line
# break in front of one of them, and the full-width signs a Chinese input method types.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralised_cell_text(text: str) -> str:
    """The text, with a leading apostrophe if a spreadsheet would read it as a formula.

    Spreadsheets show an apostrophe-led cell as the text after it; the apostrophe is the escape OWASP
    recommends for CSV injection. Numbers should be written as numbers, not through this function."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
