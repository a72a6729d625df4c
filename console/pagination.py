"""Pages of long lists whose exact size is not worth counting: the instance search may match a
hundred thousand rows, and counting them all would cost more than the page itself."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Rows counted at most; past them a list says "more than" and asks for a narrower search.
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A Paginator over at most `cap` rows: its count stops there (one `COUNT` over a `LIMIT`ed
    subquery), and `more` says whether rows lie beyond."""

    def __init__(self, object_list: Any, per_page: int, *, cap: int = COUNT_CAP) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def _found(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            # Counting needs neither the order nor the columns and joins a row shows: without
            # them the database may pick a cheaper plan (a hash join for a facet's subquery).
            rows = rows.order_by().values("pk")
        return rows[: self.cap + 1].count() if isinstance(rows, QuerySet) else min(len(rows), self.cap + 1)

    @cached_property
    def count(self) -> int:
        return min(self._found, self.cap)

    @property
    def more(self) -> bool:
        return self._found > self.cap
