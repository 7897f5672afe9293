"""The HTTP face of the gateway: the statement part of the xAPI LRS API, on FastAPI.

Routes: ``GET /xAPI/about`` (no authentication), ``POST /xAPI/statements`` (one statement or a list;
200 with the ids), ``PUT /xAPI/statements?statementId=…`` (204), ``GET /xAPI/statements?statementId=…``
(the statement as kept). Every ``/xAPI/statements`` request needs ``X-Experience-API-Version`` (1.0.x or
2.0.0) and a platform's credential: HTTP Basic ``key:secret`` or ``Authorization: Bearer <key>.<secret>``.
Errors are JSON ``{"error": {"status", "reason", "field"}}``; 503 carries ``Retry-After``.
Bodies larger than ``max_body_bytes`` get 413 before they are read whole. The OpenAPI description is
at ``/openapi.json`` (and ``/docs``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from vigie.core.errors import ConfigurationError, RetriableError, VigieError
from vigie.producers.gateway.service import (
    BatchTooLargeError,
    PlatformForbiddenError,
    StatementBusyError,
    StatementConflictError,
    StatementNotFoundError,
    StatementsService,
)
from vigie.producers.gateway.spec import StatementInvalidError, check_version_header

log = logging.getLogger(__name__)
SUPPORTED_VERSIONS = ["1.0.3", "2.0.0"]
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (StatementInvalidError, 400),
    (PlatformForbiddenError, 403),
    (StatementNotFoundError, 404),
    (StatementConflictError, 409),
    (BatchTooLargeError, 413),
    (StatementBusyError, 503),
    (RetriableError, 503),
)
_STATEMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Statement"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/Statement"}},
                    ]
                }
            }
        },
    },
}
_VERSION_HEADER = {
    "parameters": [
        {
            "name": "X-Experience-API-Version",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "enum": ["1.0.3", "2.0.0"]},
        }
    ]
}


class _Unauthorized(VigieError):
    pass


class _TooLarge(VigieError):
    pass


def create_app(service: StatementsService, *, max_body_bytes: int = 1_048_576, retry_after_s: int = 5) -> FastAPI:
    """The ASGI application over one ``StatementsService``."""
    app = FastAPI(
        title="Vigie xAPI gateway",
        version="1.0.3",
        description="Statement ingestion of the xAPI LRS API (1.0.3, and the 2.0.0 version header) for Vigie.",
    )

    def error(
        status: int, reason: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        body = {"error": {"status": status, "reason": reason, "field": field}}
        return JSONResponse(body, status_code=status, headers={"X-Experience-API-Version": "1.0.3", **(headers or {})})

    @app.exception_handler(VigieError)
    async def _vigie_error(_request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, _Unauthorized):
            return error(401, str(exc), headers={"WWW-Authenticate": 'Basic realm="vigie"'})
        if isinstance(exc, _TooLarge):
            return error(413, str(exc))
        if isinstance(exc, ConfigurationError):
            log.error("configuration error while serving a request: %s", exc)
            return error(500, "the gateway is misconfigured; see its log")
        for kind, status in _STATUS:
            if isinstance(exc, kind):
                headers = (
                    {"Retry-After": str(1 if isinstance(exc, StatementBusyError) else retry_after_s)}
                    if status == 503
                    else None
                )
                field = getattr(exc, "field", None)
                reason = getattr(exc, "reason", str(exc))
                return error(status, reason, field, headers)
        log.exception("unexpected error", exc_info=exc)
        return error(500, "internal error")

    def platform_of(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        key = secret = ""
        kind = "basic" if scheme.lower() == "basic" else "bearer" if scheme.lower() == "bearer" else ""
        if kind == "basic":
            try:
                key, _, secret = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise _Unauthorized("malformed Basic credentials") from None
        elif kind == "bearer":
            key, _, secret = credentials.strip().partition(".")
        if not key or not secret:
            raise _Unauthorized("authentication required: HTTP Basic key:secret or a Bearer token of the platform")
        platform = service.store.authenticate(key, secret, kind)  # type: ignore[arg-type]
        if platform is None:
            log.warning("refused credentials for key %s", key[:24])
            raise _Unauthorized("unknown or revoked credentials")
        return platform

    def version_of(request: Request) -> str:
        return check_version_header(request.headers.get("x-experience-api-version"))

    async def body_of(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            raise _TooLarge(f"body of {declared} bytes exceeds {max_body_bytes}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise _TooLarge(f"body exceeds {max_body_bytes} bytes")
            chunks.append(chunk)
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise StatementInvalidError(
                f"Content-Type {content_type!r} is not supported: send application/json "
                "(attachments are not supported)",
                field="Content-Type",
            )
        try:
            return json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError) as exc:
            raise StatementInvalidError(f"the body is not JSON: {exc}") from None

    def with_version(response: Response, version: str = "1.0.3") -> Response:
        """Every answer says which version the gateway speaks: the request's (1.0.3 or 2.0.0)."""
        response.headers["X-Experience-API-Version"] = version
        return response

    @app.get("/xAPI/about", summary="LRS information: supported xAPI versions")
    async def about() -> Response:
        return with_version(JSONResponse({"version": SUPPORTED_VERSIONS, "extensions": {}}))

    @app.post(
        "/xAPI/statements",
        summary="Store one statement or a list; returns their ids",
        openapi_extra={**_STATEMENT_BODY, **_VERSION_HEADER},
    )
    async def post_statements(request: Request) -> Response:
        platform, version = platform_of(request), version_of(request)
        body = await body_of(request)
        ids = await to_thread.run_sync(service.post, platform, body, version)
        return with_version(JSONResponse(ids), version)

    @app.put(
        "/xAPI/statements",
        status_code=204,
        summary="Store one statement under statementId",
        openapi_extra={**_STATEMENT_BODY, **_VERSION_HEADER},
    )
    async def put_statement(request: Request, statementId: str = Query(...)) -> Response:
        platform, version = platform_of(request), version_of(request)
        body = await body_of(request)
        await to_thread.run_sync(service.put, platform, statementId, body, version)
        return with_version(Response(status_code=204), version)

    @app.get(
        "/xAPI/statements",
        summary="The statement as kept (pseudonymised, with stored and authority)",
        openapi_extra=_VERSION_HEADER,
    )
    async def get_statement(request: Request, statementId: str | None = Query(None)) -> Response:
        platform, version = platform_of(request), version_of(request)
        if statementId is None:
            raise StatementInvalidError("only single-statement reads are served: give statementId", field="statementId")
        kept = await to_thread.run_sync(service.get, platform, statementId)
        response = JSONResponse(kept)
        response.headers["X-Experience-API-Consistent-Through"] = kept.get("stored", "")
        return with_version(response, version)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {})["Statement"] = {
                "type": "object",
                "required": ["actor", "verb", "object"],
                "description": "An xAPI statement (xAPI 1.0.3 section 2.4); checked as the specification requires.",
                "properties": {name: {"type": "object"} for name in ("actor", "verb", "object", "result", "context")},
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
