"""The local gateway runs each request in a thread of its own: a handler that blocks holds up only itself."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from local.gateway import RequestThreads


def request(body: bytes = b"{}") -> tuple[dict[str, Any], Any, Any, list[Any]]:
    """A scope, a receive that gives ``body`` then waits for the answer to finish, a send, what was sent."""
    sent: list[Any] = []
    finished = asyncio.Event()
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Any:
        if messages:
            return messages.pop(0)
        await finished.wait()  # as a server does: the client is gone only once the answer is out
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    return {"type": "http", "path": "/"}, receive, send, sent


async def answer(send: Any, text: bytes) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": text})


def test_a_blocking_request_does_not_hold_up_another() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = (await receive())["body"]
        if body == b"slow":
            time.sleep(0.5)  # a blocking store call, as the handlers make them
        await answer(send, body)

    async def both() -> list[str]:
        threads = RequestThreads(workers=4)
        done: list[str] = []

        async def one(body: bytes) -> None:
            scope, receive, send, sent = request(body)
            await threads.run(app, scope, receive, send)
            done.append(sent[-1]["body"].decode())

        await asyncio.gather(one(b"slow"), one(b"fast"))
        return done

    assert asyncio.run(both()) == ["fast", "slow"]


def test_an_app_that_waits_for_the_disconnect_after_answering_is_not_stuck() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await answer(send, b"done")
        assert (await receive())["type"] == "http.disconnect"

    async def run() -> list[Any]:
        scope, receive, send, sent = request()
        await asyncio.wait_for(RequestThreads(workers=1).run(app, scope, receive, send), timeout=5)
        return sent

    sent = asyncio.run(run())
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
