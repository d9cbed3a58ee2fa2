"""The Rasa server's calls to the action server reuse kept-alive connections (orderdesk.servers.rasa.pool_http):
one connection for many calls where Rasa 3.6 opens one per call; the same answers and errors; the session is
closed when the server stops."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from orderdesk.servers import rasa as entry


async def _server(connections: list, status: int = 200):
    async def handler(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername")
        connections.append(peer)
        if status != 200:
            return web.Response(status=status, text="no")
        body = await request.json()
        return web.json_response({"echo": body, "auth": request.headers.get("Authorization"),
                                  "q": request.query.get("token")})

    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/webhook"


@pytest.fixture
def pooled():
    from rasa.utils.endpoints import EndpointConfig

    original = EndpointConfig.request
    assert entry.pool_http()
    yield
    EndpointConfig.request = original
    entry._original_request.clear()


def test_action_calls_share_one_connection_and_keep_rasa_s_answers(pooled):
    from rasa.utils.endpoints import EndpointConfig

    async def run():
        seen: list = []
        runner, url = await _server(seen)
        try:
            endpoint = EndpointConfig(url, headers={"Authorization": "Bearer s3cret"}, token="t0k")
            answers = [await endpoint.request(json={"n": i}, method="post", timeout=5) for i in range(5)]
            closed = await entry.close_http_sessions()
            return seen, answers, closed
        finally:
            await runner.cleanup()

    seen, answers, closed = asyncio.run(run())
    assert [a["echo"] for a in answers] == [{"n": i} for i in range(5)]
    assert {a["auth"] for a in answers} == {"Bearer s3cret"} and {a["q"] for a in answers} == {"t0k"}
    assert len(seen) == 5 and len(set(seen)) == 1  # five calls, one TCP connection (one client port)
    assert closed == 1 and not entry._sessions


def test_without_the_pool_every_call_opens_a_connection():
    from rasa.utils.endpoints import EndpointConfig

    async def run():
        seen: list = []
        runner, url = await _server(seen)
        try:
            endpoint = EndpointConfig(url)
            for i in range(3):
                await endpoint.request(json={"n": i}, method="post", timeout=5)
            return seen
        finally:
            await runner.cleanup()

    seen = asyncio.run(run())
    assert len(set(seen)) == 3  # what pool_http saves: Rasa's own request opens a session per call


def test_an_error_answer_raises_rasa_s_error_and_the_session_closes_on_server_stop(pooled):
    import rasa.core.run as run_module
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    original_close = run_module.close_resources
    entry._close_on_stop()

    class App:  # what Rasa's close_resources reads: an app without an agent
        class ctx:
            pass

    async def run():
        runner, url = await _server([], status=500)
        try:
            with pytest.raises(ClientResponseError) as e:
                await EndpointConfig(url).request(json={}, method="post", timeout=5)
            sessions = list(entry._sessions.values())
            await run_module.close_resources(App, asyncio.get_running_loop())  # the server's after_server_stop
            return e.value.status, sessions
        finally:
            await runner.cleanup()

    try:
        status, sessions = asyncio.run(run())
    finally:
        run_module.close_resources = original_close
    assert status == 500
    assert len(sessions) == 1 and sessions[0].closed and not entry._sessions


def test_switched_off_by_the_environment(monkeypatch):
    from rasa.utils.endpoints import EndpointConfig

    monkeypatch.setenv(entry.POOL_ENV, "0")
    original = EndpointConfig.request
    assert entry.pool_http() is False
    assert EndpointConfig.request is original
