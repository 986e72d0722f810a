"""The one exception the sandbox's handlers raise to answer an error, and the statuses the
sandbox answers with (plain ints: the ASGI servers format the status line from the number)."""

from __future__ import annotations

from http import HTTPStatus

HTTP_OK = HTTPStatus.OK.value
HTTP_CREATED = HTTPStatus.CREATED.value
HTTP_NO_CONTENT = HTTPStatus.NO_CONTENT.value
HTTP_FOUND = HTTPStatus.FOUND.value
HTTP_BAD_REQUEST = HTTPStatus.BAD_REQUEST.value
HTTP_UNAUTHORIZED = HTTPStatus.UNAUTHORIZED.value
HTTP_NOT_FOUND = HTTPStatus.NOT_FOUND.value
HTTP_TOO_LARGE = HTTPStatus.REQUEST_ENTITY_TOO_LARGE.value
HTTP_UNPROCESSABLE = HTTPStatus.UNPROCESSABLE_ENTITY.value
HTTP_TOO_MANY = HTTPStatus.TOO_MANY_REQUESTS.value
HTTP_INTERNAL = HTTPStatus.INTERNAL_SERVER_ERROR.value
HTTP_UNAVAILABLE = HTTPStatus.SERVICE_UNAVAILABLE.value


class ApiError(Exception):
    """Answer `status` with `{"error": message}`; the message never holds a key or a body."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")
