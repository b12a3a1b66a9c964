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
        # per method: (handler, denied-missing, denied-invalid); handlers do not change after start, and
        # building them per call costs more than the call itself on a busy node
        self._handlers: dict[str, tuple[grpc.RpcMethodHandler | None, ...]] = {}

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        method = handler_call_details.method
        handlers = self._handlers.get(method)
        if handlers is None:
            handler = await continuation(handler_call_details)
            handlers = self._handlers[method] = (
                handler,
                _deny(handler, "missing 'authorization: Bearer <AUTH_TOKEN>' metadata"),
                _deny(handler, "invalid bearer token (check AUTH_TOKEN)"),
            )
        presented = None
        for key, value in handler_call_details.invocation_metadata or ():
            if key == METADATA_KEY:
                presented = value
                break
        if presented is None:
            return handlers[1]
        if not hmac.compare_digest(presented.encode(), self._expected):
            return handlers[2]
        return handlers[0]


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
