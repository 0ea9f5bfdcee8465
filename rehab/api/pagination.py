from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Numbered pages, 25 rows by default, at most API_MAX_PAGE_SIZE. A page size outside the
    range is refused (400), not quietly replaced, so a client learns of its mistake."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        pages = request.query_params.getlist(self.page_query_param)
        if pages and (len(pages) > 1 or not pages[0].isdigit() or int(pages[0]) < 1):
            raise ValidationError({self.page_query_param: ["A page number from 1, given once."]})
        return super().paginate_queryset(queryset, request, view)

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
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


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
