"""A hostile HTTP server on 127.0.0.1: a small Rally (contacts by email, in memory) whose every
answer a test may twist into what no honest server sends. It speaks raw HTTP/1.1 over asyncio
on a thread of its own, so the real clients meet real sockets: keys echoed back, bulk answers
that do not add up, JSON nested 100,000 deep, answers trickled a byte at a time, answers a
gigabyte long, redirects, and a key refused in the middle of a run.

A test hands in `twist(request, act) -> Answer | None`: `act()` lets the small Rally do what
it would and gives its honest answer (a twist that never calls it leaves the request
undone); None keeps the honest answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

CHUNK = 64 * 1024
REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    401: "Unauthorized",
    422: "Unprocessable",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Answer:
    """What to send back. `body` (bytes) or `json`; `trickle_s`: the body a byte at a time,
    for ever, this many seconds apart (`head_too`: the status line and headers as well);
    `endless`: `declared` bytes announced, zeros sent until the client hangs up."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    trickle_s: float | None = None
    head_too: bool = False
    endless: bool = False
    declared: int | None = None

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        return b"" if self.json is None else json.dumps(self.json).encode()


Twist = Callable[[Request, Callable[[], Answer]], Answer | None]


class SmallRally:
    """Contacts by email, answering list, bulk and upsert as Rally's documents say."""

    def __init__(self) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}

    def answer(self, request: Request) -> Answer:
        path = request.path.removeprefix("/api/v1/")
        if request.method == "GET" and path == "contacts":
            offset, limit = int(request.query.get("offset", 0)), int(request.query.get("limit", 50))
            return Answer(json=list(self.contacts.values())[offset : offset + limit])
        if request.method == "POST" and path == "contacts/bulk":
            created, errors = [], []
            for index, record in enumerate(request.json()):
                if record["email"].lower() in self.contacts:
                    errors.append({"index": index, "error": "a contact with this email exists"})
                else:
                    created.append(self._store(record)["id"])
            body = {"created": len(created), "updated": 0, "failed": len(errors)}
            return Answer(json=body | {"createdIds": created, "errors": errors})
        if request.method == "PUT" and path == "contacts/upsert":
            record = request.json()
            known = self.contacts.get(record["email"].lower())
            stored = self._store(record, known["id"] if known else None)
            return Answer(json={"action": "updated" if known else "created", "id": stored["id"]})
        return Answer(status=404, json={"error": "not found"})

    def _store(self, record: dict[str, Any], rally_id: str | None = None) -> dict[str, Any]:
        stored = {**record, "id": rally_id or str(uuid.uuid4())}
        self.contacts[record["email"].lower()] = stored
        return stored


class HostileServer:
    """The server: `base_url`, the requests it saw, the bytes it sent."""

    def __init__(self, twist: Twist | None = None) -> None:
        self.rally = SmallRally()
        self.twist = twist
        self.requests: list[Request] = []
        self.bytes_sent = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hostile-server", daemon=True)
        self._server: asyncio.Server | None = None
        self.base_url = ""

    def start(self) -> HostileServer:
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def begin() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            port = self._server.sockets[0].getsockname()[1]
            self.base_url = f"http://127.0.0.1:{port}"
            self._ready.set()

        self._loop.run_until_complete(begin())
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, OSError):
            try:
                request = await _read_request(reader)
                self.requests.append(request)
                acted: list[Answer] = []

                def act() -> Answer:
                    if not acted:
                        acted.append(self.rally.answer(request))
                    return acted[0]

                answer = self.twist(request, act) if self.twist is not None else None
                await self._send(writer, answer or act())
            finally:
                writer.close()

    async def _send(self, writer: asyncio.StreamWriter, answer: Answer) -> None:
        body = answer.payload()
        length = answer.declared if answer.declared is not None else len(body)
        headers = {"Content-Type": "application/json", "Connection": "close", **answer.headers}
        if not (answer.endless and answer.declared is None) and answer.trickle_s is None:
            headers.setdefault("Content-Length", str(length))
        reason = REASONS.get(answer.status, "Status")
        head = f"HTTP/1.1 {answer.status} {reason}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        if answer.trickle_s is not None:
            if answer.head_too:
                await self._trickle(writer, head.encode(), answer.trickle_s)
            else:
                await self._write(writer, head.encode())
            while True:  # for ever: only the client's deadline ends this
                await self._trickle(writer, b" ", answer.trickle_s)
        await self._write(writer, head.encode())
        if answer.endless:
            zeros = b"0" * CHUNK
            while True:  # until the client hangs up
                await self._write(writer, zeros)
        await self._write(writer, body)

    async def _trickle(self, writer: asyncio.StreamWriter, data: bytes, every_s: float) -> None:
        for byte in data:
            await self._write(writer, bytes([byte]))
            await asyncio.sleep(every_s)

    async def _write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()
        self.bytes_sent += len(data)


async def _read_request(reader: asyncio.StreamReader) -> Request:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    parts = urlsplit(target)
    return Request(method, parts.path, dict(parse_qsl(parts.query)), headers, body)


@contextmanager
def hostile_server(twist: Twist | None = None) -> Iterator[HostileServer]:
    server = HostileServer(twist).start()
    try:
        yield server
    finally:
        server.close()
