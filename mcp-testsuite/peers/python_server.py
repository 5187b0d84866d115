"""A small MCP server written with the official Python SDK (PyPI `mcp`, pinned by
`scripts/install-peers`), for our client to talk to: a server we did not write.

    python_server.py stdio    serve one client on stdin/stdout
    python_server.py http     serve streamable HTTP on 127.0.0.1, a port of its choosing

Over HTTP it prints `python peer serving at http://127.0.0.1:PORT/mcp` on stderr once it
accepts connections, and exits when its stdin closes (the test holds the other end, so the
process never outlives the test). One HTTP process serves both eras: the SDK answers
`server/discover` (2026-07-28) and `initialize` (2025-11-25) on the same endpoint.

What it offers is what `mcp-testsuite/src/python.rs` checks: tools (plain text, structured
output, a failure), one tool that asks the client for input (an elicitation: a request to
the client in 2025-11-25, an `input_required` round in 2026-07-28), a static resource, a
resource template, and a prompt with an argument.
"""

import socket
import sys
from typing import Annotated

import anyio
from pydantic import BaseModel

from mcp.server.mcpserver import Elicit, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer(
    "python-peer",
    instructions="A server written with the Python SDK, for the Rust client's interop tests.",
)


class Sum(BaseModel):
    sum: int


@server.tool(description="Adds two integers.")
def add(a: int, b: int) -> Sum:
    return Sum(sum=a + b)


@server.tool(description="Repeats the text.")
def echo(text: str) -> str:
    return text


@server.tool(description="Always fails.")
def fail() -> str:
    raise ToolError("the python peer fails on purpose")


class Who(BaseModel):
    name: str


def ask_who() -> Elicit[Who]:
    return Elicit("Who is calling the python peer?", Who)


@server.tool(description="Greets whoever the client says is calling (asks the client).")
def greet(who: Annotated[Who, Resolve(ask_who)]) -> str:
    return f"Hello, {who.name}, from python!"


@server.resource("peer://static/note", name="note", mime_type="text/plain")
def note() -> str:
    return "a note from the python peer"


@server.resource("peer://greeting/{name}", name="greeting")
def greeting(name: str) -> str:
    return f"Greetings, {name}."


@server.prompt(description="Asks for a review of some code.")
def review(code: str) -> str:
    return f"Please review this code: {code}"


async def serve_http() -> None:
    import uvicorn

    # Bound here, so the port is known before uvicorn starts (port 0: any free one).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Listening before uvicorn runs: connections wait in the backlog, so the address can be
    # announced at once.
    sock.listen(128)
    print(f"python peer serving at http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)
    app = server.streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    http = uvicorn.Server(config)

    async def stop_when_stdin_closes() -> None:
        await anyio.to_thread.run_sync(sys.stdin.buffer.read)
        http.should_exit = True

    async with anyio.create_task_group() as tg:
        tg.start_soon(stop_when_stdin_closes)
        await http.serve(sockets=[sock])
        tg.cancel_scope.cancel()


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in ("stdio", "http"):
        sys.exit(__doc__)
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        anyio.run(serve_http)


if __name__ == "__main__":
    main()
