"""Pages of a list counted in SQL: what the page's "previous / next" links need from a count, a page number and
a page size."""


class Paged:
    """Mixed into a dataclass with ``count``, ``number`` (from 1) and ``per_page``."""

    count: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages
