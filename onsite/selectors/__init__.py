"""Reads of on-site domain data, each owning its queries.

Rules every selector here keeps:
- It takes the acting user (`user=`) and returns only what `onsite.access` lets that user read: a
  record refused outright raises `NotPermitted`, a list is filtered by the same rule the yes/no
  check derives from. Reference data that belongs to no one (the industry playbook) needs no user.
- It returns data - numbers, dates, ids, codes, model rows and the text people typed - never a
  sentence or label the platform words. Not even a lazy translation: a worker or a PDF renderer
  would word it in whatever language is active there, and a stored or compared value must not
  depend on a language at all. Each module has one `describe` (or a labels table, such as
  `short_board.INDICATOR_LABELS`) that words its codes in the active language; whoever displays the
  data (a page, a report, a command) calls it at that moment.
- Input it cannot use is refused with `InvalidInput` on the field, never a raw `ValueError`.
"""
