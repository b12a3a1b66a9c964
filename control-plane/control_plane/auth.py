"""Bearer-token authentication for every gRPC call."""

from __future__ import annotations

import hmac

import grpc

METADATA_KEY = "authorization"


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """Call metadata that authenticates with `token`."""
    return ((METADATA_KEY, f"Bearer {token}"),)


class BearerAuthInterceptor(grpc.aio.ServerInterceptor):
    """Rejects any call whose `authorization` metadata is not `Bearer <AUTH_TOKEN>`."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = await continuation(handler_call_details)
        presented = dict(handler_call_details.invocation_metadata or ()).get(METADATA_KEY)
        if presented is None:
            return _deny(handler, "missing 'authorization: Bearer <AUTH_TOKEN>' metadata")
        if not hmac.compare_digest(presented.encode(), self._expected):
            return _deny(handler, "invalid bearer token (check AUTH_TOKEN)")
        return handler


def _deny(handler: grpc.RpcMethodHandler | None, message: str) -> grpc.RpcMethodHandler | None:
    """A handler of the same shape as `handler` that fails the call with UNAUTHENTICATED."""
    if handler is None:  # unknown method: let gRPC answer UNIMPLEMENTED
        return None

    async def abort(request, context):  # type: ignore[no-untyped-def]
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    async def abort_stream(request, context):  # type: ignore[no-untyped-def]
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
        yield  # pragma: no cover - makes this an async generator

    kw = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(abort_stream, **kw)
    return grpc.unary_unary_rpc_method_handler(abort, **kw)
