"""Pagination for lists that can grow without bound (the support queue)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most ``cap`` matches. Counting every match costs time in proportion to their
    number; "more than 1,000" tells a person as much, and costs the same at any size.
    Pages past the cap are not offered: narrowing the filters is the way there."""

    cap = 1000

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    capped = False
