"""The API's one parser: DRF's JSON parser, bounded. JSON nested deeper than
rehab.validators.MAX_JSON_DEPTH is a 400, whether Python's decoder would run out of stack on it
(a RecursionError, so a 500) or not (every later walk of the data, in a serializer, a service or
the idempotency fingerprint, could); so is text with half a surrogate pair, which no later step
can encode. A body over DATA_UPLOAD_MAX_MEMORY_SIZE never gets here:
reading it raises RequestDataTooBig, which rehab.api.errors answers with a 413."""

from __future__ import annotations

from rest_framework import exceptions, parsers

from rehab.validators import MAX_JSON_DEPTH, json_refusal


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels."
            ) from None
        if refusal := json_refusal(data):
            raise exceptions.ParseError(refusal)
        return data
