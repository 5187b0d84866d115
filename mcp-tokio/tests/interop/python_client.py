"""Drives our `everything` example server with the official Python MCP SDK.

    python_client.py SERVER MODE

SERVER is the server binary, started as a child process and spoken to over stdio, or the URL
of a running server (`http://127.0.0.1:PORT/mcp`), spoken to over streamable HTTP. MODE is
passed to `mcp.Client(mode=...)`: `legacy` forces the `initialize` handshake
(2025-11-25); `auto` probes `server/discover` first and so speaks 2026-07-28 with a server
that answers it. The script prints one JSON object describing what the server answered, and
`interop_python.rs` asserts on it. Anything unexpected raises, which exits non-zero with a
traceback on stderr.
"""

import json
import sys
import time
from typing import Any

import anyio
import mcp.types as types
from mcp import Client, StdioServerParameters
from mcp.shared.subscriptions import ResourceUpdated

# Every step is bounded; the Rust side bounds the whole process as well.
STEP_TIMEOUT = 20
COUNTER_URI = "everything://counter"


def texts(content: list[Any]) -> str:
    return "\n".join(c.text for c in content if isinstance(c, types.TextContent))


def dump(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def tour(server: str, mode: str) -> dict[str, Any]:
    out: dict[str, Any] = {"mode": mode, "asks": [], "progress": [], "logs": [], "updates": []}
    updated = anyio.Event()

    async def sampling(_ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        prompt = " ".join(
            m.content.text for m in params.messages if isinstance(m.content, types.TextContent)
        )
        out["asks"].append({"sampling": prompt, "max_tokens": params.max_tokens})
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="a canned reply from python"),
            model="python-canned-model",
            stop_reason="endTurn",
        )

    async def elicitation(_ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        schema = getattr(params, "requested_schema", None)
        out["asks"].append({"elicitation": params.message, "fields": sorted((schema or {}).get("properties", {}))})
        return types.ElicitResult(action="accept", content={"name": "Grace Hopper", "likes_rust": False})

    async def list_roots(_ctx: Any) -> types.ListRootsResult:
        out["asks"].append({"roots": True})
        return types.ListRootsResult(roots=[types.Root(uri="file:///tmp/python-root", name="python-root")])

    async def logging(params: types.LoggingMessageNotificationParams) -> None:
        out["logs"].append({"level": params.level, "logger": params.logger, "data": params.data})

    async def messages(message: Any) -> None:
        # Legacy resource subscriptions arrive as plain notifications.
        if isinstance(message, types.ResourceUpdatedNotification):
            out["updates"].append(message.params.uri)
            updated.set()

    # A URL string makes the SDK use its streamable HTTP transport (and DELETE the session,
    # if the server gave one, on the way out).
    target: str | StdioServerParameters = server
    if not server.startswith(("http://", "https://")):
        target = StdioServerParameters(command=server, args=["stdio"])
    client = Client(
        target,
        mode=mode,
        read_timeout_seconds=STEP_TIMEOUT,
        sampling_callback=sampling,
        elicitation_callback=elicitation,
        list_roots_callback=list_roots,
        logging_callback=logging,
        message_handler=messages,
        # 2026-07-28: opt in to log messages per request; legacy uses logging/setLevel below.
        log_level="info",
        client_info=types.Implementation(name="python-interop", version="0"),
    )
    # Requests are bounded by read_timeout_seconds, waits by their own fail_after; this
    # bounds the rest (connecting, closing).
    with anyio.fail_after(8 * STEP_TIMEOUT):
        async with client:
            await exercise(client, out, updated)
    return out


async def exercise(client: Client, out: dict[str, Any], updated: anyio.Event) -> None:
    out["protocol_version"] = client.protocol_version
    out["server_info"] = dump(client.server_info) if client.server_info else None
    out["instructions"] = client.instructions
    caps = client.server_capabilities
    out["capabilities"] = sorted(k for k, v in dump(caps).items() if v is not None)

    tools = await client.list_tools()
    out["tools"] = [t.name for t in tools.tools]
    add_tool = next(t for t in tools.tools if t.name == "add")
    out["add_output_schema"] = add_tool.output_schema

    r = await client.call_tool("echo", {"message": "hello from python"})
    out["echo"] = {"text": texts(r.content), "is_error": r.is_error}

    r = await client.call_tool("add", {"a": 2, "b": 40})
    out["add"] = {"structured": r.structured_content, "text": texts(r.content), "is_error": r.is_error}

    async def progress(value: float, total: float | None, message: str | None) -> None:
        out["progress"].append([value, total, message])

    r = await client.call_tool("long_running", {"steps": 3, "step_ms": 20}, progress_callback=progress)
    out["long_running"] = texts(r.content)

    # Cancellation: give up on a long call; the connection must carry on.
    with anyio.move_on_after(0.3) as scope:
        await client.call_tool("long_running", {"steps": 50, "step_ms": 100})
    out["cancelled_call"] = scope.cancelled_caught
    r = await client.call_tool("echo", {"message": "still here"})
    out["after_cancel"] = texts(r.content)

    for tool, args in (("sample", {"prompt": "hi from rust", "max_tokens": 33}), ("elicit", {}), ("roots", {})):
        r = await client.call_tool(tool, args)
        out[tool] = {"text": texts(r.content), "is_error": r.is_error}

    r = await client.call_tool("fail", {})
    out["fail"] = {"text": texts(r.content), "is_error": r.is_error}

    if client.protocol_version.startswith("2025"):
        await client.set_logging_level("info")
    r = await client.call_tool("log", {})
    out["log"] = texts(r.content)

    resources = await client.list_resources()
    out["resources"] = [r.uri for r in resources.resources]
    templates = await client.list_resource_templates()
    out["templates"] = [t.uri_template for t in templates.resource_templates]
    reads = {}
    for uri in ("everything://static/readme", "everything://static/bytes", "everything://greeting/Grace"):
        contents = (await client.read_resource(uri)).contents[0]
        reads[uri] = dump(contents)
    out["reads"] = reads

    await follow_counter(client, out, updated)

    prompts = await client.list_prompts()
    out["prompts"] = {p.name: [a.name for a in (p.arguments or [])] for p in prompts.prompts}
    got = {}
    for name, args in (
        ("simple", None),
        ("greeting", {"name": "Grace", "style": "formal"}),
        ("with_resource", None),
    ):
        result = await client.get_prompt(name, args)
        got[name] = [dump(m) for m in result.messages]
    out["prompt_messages"] = got

    c = await client.complete(types.PromptReference(name="greeting"), {"name": "style", "value": "p"})
    out["complete_style"] = c.completion.values
    c = await client.complete(
        types.ResourceTemplateReference(uri="everything://greeting/{name}"), {"name": "name", "value": "g"}
    )
    out["complete_name"] = c.completion.values


async def follow_counter(client: Client, out: dict[str, Any], updated: anyio.Event) -> None:
    """Waits for one update of the counter resource, by the era's own mechanism (`updated`
    is set by the message handler when a legacy `notifications/resources/updated` arrives).
    Records in `update_wait` how long the first update took to arrive (seconds, from asking)."""
    asked = time.monotonic()
    with anyio.fail_after(STEP_TIMEOUT):
        if client.protocol_version.startswith("2025"):
            await client.subscribe_resource(COUNTER_URI)
            await updated.wait()
            out["update_wait"] = time.monotonic() - asked
            await client.unsubscribe_resource(COUNTER_URI)
            out["subscribed_via"] = "resources/subscribe"
        else:
            async with client.listen(resource_subscriptions=[COUNTER_URI]) as sub:
                out["listen_honored"] = dump(sub.honored)
                async for event in sub:
                    if isinstance(event, ResourceUpdated):
                        out["update_wait"] = time.monotonic() - asked
                        out["updates"].append(event.uri)
                        break
            out["subscribed_via"] = "subscriptions/listen"


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    server, mode = sys.argv[1], sys.argv[2]
    out = anyio.run(tour, server, mode)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
