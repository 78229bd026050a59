"""How a page handler reads a form: ``data: FormBody[SomeForm]`` for an
``application/x-www-form-urlencoded`` post, ``UploadBody[SomeForm]`` for
``multipart/form-data`` (the report with its photo). Litestar reads a body
as JSON unless the parameter names its encoding; one spelling here keeps
every page handler's signature short and the encoding in one place."""

from __future__ import annotations

from typing import Annotated, TypeVar

from litestar.enums import RequestEncodingType
from litestar.params import Body

Form = TypeVar("Form")

FormBody = Annotated[Form, Body(media_type=RequestEncodingType.URL_ENCODED)]
UploadBody = Annotated[Form, Body(media_type=RequestEncodingType.MULTI_PART)]
