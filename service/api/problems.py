"""RFC 9457 problem details: the only place errors become HTTP status codes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from service.errors import (
    JobNotFoundError,
    JobStateError,
    QueueFullError,
    SchedlabError,
    SpecError,
    StorageError,
)
from service.storage import ObjectNotFound

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

PROBLEM_JSON = "application/problem+json"


class InvalidParam(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error response (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[InvalidParam] | None = None


def problem(request: Request, status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = Problem(
        type=f"https://schedlab.dev/problems/{title.lower().replace(' ', '-')}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        **extra,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON)


def _field(location: tuple[int | str, ...]) -> str:
    # The first element says where the field was; a field may itself be called `path` (the files route's).
    where_dropped = location[1:] if location and location[0] in ("body", "query", "path", "header") else location
    parts = [str(p) for p in where_dropped]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        params = [InvalidParam(field=_field(tuple(e["loc"])), message=e["msg"]) for e in error.errors()]
        first = params[0] if params else InvalidParam(field="body", message="invalid request")
        return problem(request, 422, "Invalid request", f"{first.field}: {first.message}", errors=params)

    @app.exception_handler(SpecError)
    async def invalid_spec(request: Request, error: SpecError) -> JSONResponse:
        param = InvalidParam(field=error.field, message=error.message)
        return problem(request, 422, "Invalid request", str(error), errors=[param])

    @app.exception_handler(JobNotFoundError)
    async def not_found(request: Request, error: JobNotFoundError) -> JSONResponse:
        return problem(request, 404, "Not found", f"no comparison with id {error}")

    @app.exception_handler(ObjectNotFound)
    async def no_object(request: Request, error: ObjectNotFound) -> JSONResponse:
        return problem(request, 404, "Not found", "no such file in this comparison")

    @app.exception_handler(JobStateError)
    async def conflict(request: Request, error: JobStateError) -> JSONResponse:
        return problem(request, 409, "Conflict", str(error))

    @app.exception_handler(QueueFullError)
    async def busy(request: Request, error: QueueFullError) -> JSONResponse:
        response = problem(request, 429, "Too many requests", str(error))
        response.headers["Retry-After"] = str(error.retry_after_s)
        return response

    @app.exception_handler(StorageError)
    async def storage_down(request: Request, error: StorageError) -> JSONResponse:
        return problem(request, 503, "Storage unavailable", str(error))

    @app.exception_handler(SchedlabError)
    async def other(request: Request, error: SchedlabError) -> JSONResponse:
        return problem(request, 400, "Bad request", str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        response = problem(request, error.status_code, _title(error.status_code), str(error.detail))
        for key, value in (error.headers or {}).items():
            response.headers[key] = value
        if error.status_code == 405:
            # Starlette answers with the first route that matched the path; list every method the path has.
            response.headers["Allow"] = ", ".join(sorted(_allowed_methods(app, request.scope)))
        return response


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _allowed_methods(app: FastAPI, scope: Scope) -> set[str]:
    """The methods some route answers at this scope's path, asked of each route as Starlette's router asks it
    (included routers are not flat lists of APIRoutes in FastAPI's routing, so reading `app.routes` is not enough)."""
    return {
        method
        for method in _METHODS
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in app.router.routes)
    }
