"""Pages of a list whose cost does not grow with the list (docs/decisions/0029): the rows of one
page (and one more: is there a next one?) read in an index's order, and a count that stops at
COUNT_CAP. Above it a page says « plus de 1 000 » and the pager « Page 3 / plus de 20 »; the
number of pages is exact within the cap and on the last page.

`BoundedPage` reads as `core/_pagination.html` reads a Django Page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

# Counts stop here: beyond, « plus de 1 000 ».
COUNT_CAP = 1000


def cap_text(cap: int | None = None) -> str:
    """ "1 000" (the cap as French readers write it)."""
    return f"{COUNT_CAP if cap is None else cap:,}".replace(",", "\u00a0")


def bounded_text(count: int) -> str:
    """A count from `bounded_count` as a page writes it: "12", or "plus de 1 000"."""
    return str(count) if count <= COUNT_CAP else f"plus de {cap_text()}"


def bounded_count(queryset: QuerySet, cap: int | None = None) -> int:
    """The number of rows of `queryset`, counted up to COUNT_CAP + 1 (`SELECT COUNT(*) FROM (…
    LIMIT 1001)`: an index range, whatever the table's length): above COUNT_CAP means « plus de
    1 000 »."""
    cap = COUNT_CAP if cap is None else cap
    return queryset.order_by().values("pk")[: cap + 1].count()


@dataclass
class BoundedPaginator:
    num_pages: int | str  # "plus de 20" while the end is not known
    per_page: int
    count: int | str = 0  # the rows, or "plus de 1 000"


@dataclass
class BoundedPage:
    object_list: list
    number: int
    paginator: BoundedPaginator
    has_next_page: bool

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self.has_next_page

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next_page or self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def page_number(value) -> int:
    """The page asked for in a query string: 1 when missing or not a number."""
    try:
        number = int(str(value or "1")[:6])
    except ValueError:
        return 1
    return max(1, number)


def num_pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def bounded_page(
    queryset: QuerySet, number, per_page: int, *, cap: int | None = None
) -> BoundedPage:
    """Page `number` of the ordered `queryset`: its rows (one more is read to know whether there
    is a next page) and a count bounded at `cap` (COUNT_CAP by default; a list whose rows are
    costly to filter takes a lower one). A page past the end shows the last one (as Django's
    Paginator.get_page), counting the whole list only then."""
    cap = COUNT_CAP if cap is None else cap
    total = bounded_count(queryset, cap)
    number = page_number(number)
    if total <= cap:
        number = min(number, num_pages(total, per_page))

    def read(number: int) -> list:
        offset = (number - 1) * per_page
        return list(queryset[offset : offset + per_page + 1])

    rows = read(number)
    if not rows and number > 1:  # past the end of a long list
        total = queryset.order_by().count()
        number = num_pages(total, per_page)
        rows = read(number)
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    known = total <= cap or not has_next
    if not has_next:  # the last page: the total is known
        total = (number - 1) * per_page + len(rows)
    return BoundedPage(
        rows,
        number,
        BoundedPaginator(
            num_pages(total, per_page) if known else f"plus de {max(number, cap // per_page)}",
            per_page,
            total if known else f"plus de {cap_text(cap)}",
        ),
        has_next,
    )
