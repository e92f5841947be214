"""Paging long lists without counting every row the user may see."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """A paginator that stops counting at `cap` rows.

    Counting every person an agency may see means evaluating the sharing rules over the
    whole partnership on every page view. Past the cap the list says "more than 1,000"
    and asks the user to narrow the search (the GOV.UK pattern for large result sets),
    so both queries can stop early: the count after `cap + 1` rows, the page after
    its own rows in index order. Pages beyond the cap are not offered.
    """

    def __init__(self, object_list, per_page, cap=1000, known_count=None, **kwargs):
        """`known_count` is the number of rows when the page has counted them already."""
        self.cap = cap
        self.known_count = known_count
        super().__init__(object_list, per_page, **kwargs)

    def get_page(self, number):
        """As Paginator.get_page; the first page is read one row long, and no count is needed when it is short.

        Searches by name or identifier mostly find less than a page, and counting them would
        evaluate the sharing rules a second time.
        """
        if self.known_count is not None or str(number or 1) != "1":
            return super().get_page(number)
        rows = list(self.object_list[: self.per_page + 1])
        if len(rows) <= self.per_page:
            self.known_count = len(rows)
        return self._get_page(rows[: min(self.per_page, self.cap)], 1, self)

    @cached_property
    def _capped_count(self):
        if self.known_count is not None:
            return self.known_count
        # A sliced queryset counts as SELECT COUNT(*) FROM (... LIMIT cap + 1).
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @cached_property
    def more_than_cap(self):
        return self._capped_count > self.cap

    @cached_property
    def count(self):
        return min(self._capped_count, self.cap)
