"""What the TAXII 2.1 routes declare in ``/openapi.json``: the resources' shapes, the error
resource, and which answers use which media type.

The routes answer with ``JSONResponse`` objects they build themselves (no response-model
validation on pages of up to 1000 STIX objects); these models only describe them, and the
schemathesis tests (tests/web/test_schemathesis.py) check that every answer matches.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

ACCEPT_NOTE = (
    "Send `Accept: application/taxii+json;version=2.1`. Also accepted: `application/taxii+json` "
    "without a version, `application/json`, `application/*`, `*/*`, and no Accept header at "
    "all (counts as `*/*`). Anything else (e.g. `application/taxii+json;version=2.0`, or the "
    "acceptable types only with `q=0`) answers 406 before the token is checked. Needs "
    "`Authorization: Bearer <token>`; what is visible depends on the token's TLP clearance.")

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"},
                                 description="RFC 3339, UTC")]


class TaxiiResponse(JSONResponse):
    """JSON in TAXII's media type (also what the OpenAPI document declares for successes)."""

    media_type = TAXII_MEDIA_TYPE


class StixObject(BaseModel):
    """A STIX 2.1 object (every property of the object is passed on)."""

    model_config = ConfigDict(extra="allow")
    type: str
    id: str = Field(description="type--UUID")
    spec_version: str


class TaxiiDiscovery(BaseModel):
    title: str
    description: str
    default: str = Field(description="URL of the default API root")
    api_roots: list[str]


class TaxiiApiRoot(BaseModel):
    title: str
    description: str
    versions: list[str] = Field(description="TAXII media types this root speaks")
    max_content_length: int = Field(ge=0, description="bytes")


class TaxiiCollection(BaseModel):
    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool
    media_types: list[str]


class TaxiiCollections(BaseModel):
    collections: list[TaxiiCollection]


class TaxiiEnvelope(BaseModel):
    more: bool = Field(description="whether another page follows")
    next: SkipJsonSchema[None] | str = Field(
        None, description="pass as next= for the following page (present only when more)")
    objects: list[StixObject]


class TaxiiManifestRecord(BaseModel):
    id: str
    date_added: Timestamp
    version: Timestamp
    media_type: str


class TaxiiManifest(BaseModel):
    more: bool
    next: SkipJsonSchema[None] | str = Field(None, description="present only when more")
    objects: list[TaxiiManifestRecord]


class TaxiiVersions(BaseModel):
    more: bool
    next: SkipJsonSchema[None] | str = Field(None, description="present only when more")
    versions: list[Timestamp]


class TaxiiErrorMessage(BaseModel):
    """TAXII's error message resource."""

    title: str
    description: str
    http_status: str = Field(pattern=r"^[45][0-9]{2}$", description="the HTTP status, as text")


_TAXII_ERRORS = {400: "bad request: a parameter is malformed (TAXII error message)",
                 404: "no such collection or object, or not within the token's clearance "
                      "(TAXII error message)",
                 406: "the Accept header excludes application/taxii+json;version=2.1 "
                      "(TAXII error message)"}
# the API's own error shape, answered as plain JSON by the app's handlers. Content only, no
# "model": FastAPI would file a model under the route's media type (TAXII's), which is wrong
_API_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
_RANGE_HEADERS = {
    f"X-TAXII-Date-Added-{end}": {
        "description": f"date_added of the {end.lower()} object on this page (absent when the "
                       "page is empty)",
        "schema": {"type": "string", "format": "date-time"}}
    for end in ("First", "Last")}


def taxii_responses(*statuses: int, date_headers: bool = False) -> dict[int | str, Any]:
    """OpenAPI ``responses`` of a TAXII route: TAXII errors for ``statuses``, the API's error
    shape for 401 (no or bad token) and 500, and the date-added headers on 200 if asked."""
    answers: dict[int | str, Any] = {
        status: {"model": TaxiiErrorMessage, "description": _TAXII_ERRORS[status]}
        for status in sorted({*statuses, 406})}
    answers[401] = {"description": "missing, unknown or revoked token (the API's JSON error "
                                   "shape)", "content": _API_ERROR}
    answers[500] = {"description": "a bug (the API's JSON error shape)", "content": _API_ERROR}
    # the app declares the API's 422 for every route; TAXII routes answer invalid parameters
    # with a TAXII 400 instead, so say so rather than leave a wrong content description
    answers[422] = {"description": "not used by the TAXII routes: invalid parameters answer 400"}
    if date_headers:
        answers[200] = {"headers": _RANGE_HEADERS}
    return answers
