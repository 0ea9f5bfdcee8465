import datetime as dt

from django.conf import settings
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination


class PageSize:
    """25 rows by default, at most API_MAX_PAGE_SIZE. A page size outside the range is refused
    (400), not quietly replaced, so a client learns of its mistake."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request):
        sizes = request.query_params.getlist(self.page_size_query_param)
        if not sizes:
            return self.page_size
        raw = sizes[0] if len(sizes) == 1 else ""
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class Pagination(PageSize, PageNumberPagination):
    """Numbered pages with a count of every row."""

    def paginate_queryset(self, queryset, request, view=None):
        pages = request.query_params.getlist(self.page_query_param)
        if pages and (len(pages) > 1 or not pages[0].isdigit() or int(pages[0]) < 1):
            raise ValidationError({self.page_query_param: ["A page number from 1, given once."]})
        return super().paginate_queryset(queryset, request, view)


class CursorPages(PageSize, CursorPagination):
    """Pages that follow one another by a cursor (the `next` and `previous` links), for a list
    that grows for years (the audit trail): each page reads the top of an index from where the
    last one ended, and nothing counts every row, so a page costs the same at ten thousand rows
    or ten million. The cursor is opaque; one this list did not give is a 400."""

    ordering = ("-at", "-id")
    invalid_cursor = "Not a cursor this list gave: follow its next or previous link."

    def get_paginated_response_schema(self, schema):
        response_schema = super().get_paginated_response_schema(schema)
        # DRF's example link ends in a stray quote: no URI, so a linter finds the example
        # breaks its own `format: uri`.
        for link in ("next", "previous"):
            example = response_schema["properties"][link].get("example")
            if example:
                response_schema["properties"][link]["example"] = example.rstrip('"')
        return response_schema

    def decode_cursor(self, request):
        if len(request.query_params.getlist(self.cursor_query_param)) > 1:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor]})
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = False
        position = None if not cursor else cursor.position
        if cursor is False or (position is not None and self._position(position) is None):
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor]})
        if position is None:
            return cursor
        return Cursor(cursor.offset, cursor.reverse, self._position(position))

    def _position(self, position: str) -> str | None:
        """The cursor's place as the ordering's first field writes it (DRF compares the text),
        or None if it is not one: DRF would hand the database any string, a 500 when it does not
        parse, or when PostgreSQL finds a time or a number out of its range."""
        field = self.ordering[0].lstrip("-")
        if field == "id":
            return str(int(position)) if position.isdigit() and len(position) <= 18 else None
        try:
            at = parse_datetime(position)
            return None if at is None or at.tzinfo is None else str(at.astimezone(dt.UTC))
        except (ValueError, OverflowError):
            return None


class StrictOrderingFilter(OrderingFilter):
    """?ordering= takes the listed fields (a leading '-' reverses); an unknown field is a 400."""

    def get_ordering(self, request, queryset, view):
        if len(request.query_params.getlist(self.ordering_param)) > 1:
            raise ValidationError(
                {self.ordering_param: ["Give the ordering once, fields separated by commas."]}
            )
        params = request.query_params.get(self.ordering_param)
        if params is not None:
            fields = [param.strip() for param in params.split(",")]
            valid = {
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            }
            bad = [f for f in fields if f.lstrip("-") not in valid]
            if bad:
                allowed = ", ".join(sorted(valid))
                raise ValidationError({self.ordering_param: [f"Order by one of: {allowed}."]})
        return super().get_ordering(request, queryset, view)
