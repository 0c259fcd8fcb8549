"""A pipeline stage written with the official A2A Python SDK (a2a-sdk 1.x), deployed by a2a-deploy.

It reverses the order of the words it gets, forwards the result to the agent it calls (A2A_PEERS)
and answers with the trail of stages the text went through, so a reply shows every agent. What it relies on from a2a-deploy (README, "Writing agents"):

- AGENT_HOST / AGENT_PORT: where to listen; AGENT_URL: the URL to advertise in the agent card
  (readiness type a2a checks that the card advertises exactly this URL);
- A2A_PEERS: JSON object id -> URL of the agents it calls;
- the loop-protection metadata {"a2aDeploy": {"visited": [ids]}}: never forward to an agent in
  `visited`, and pass on visited + self + the peers forwarded to.

It serves no /health: the SDK's agent card is what tells a2a-deploy it is ready.
"""

import asyncio
import json
import os
import sys

import uvicorn
from google.protobuf.json_format import MessageToDict
from starlette.applications import Starlette

from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import get_message_text, get_stream_response_text, new_data_part, new_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Role, SendMessageRequest

AGENT_ID = os.environ.get("AGENT_ID", "python-stage")
HOST = os.environ.get("AGENT_HOST", "127.0.0.1")
PORT = int(os.environ["AGENT_PORT"])
URL = os.environ.get("AGENT_URL", f"http://{HOST}:{PORT}").rstrip("/")
PEERS: dict[str, str] = json.loads(os.environ.get("A2A_PEERS") or "{}")
PEER_TIMEOUT_S = float(os.environ.get("PEER_TIMEOUT_MS", "30000")) / 1000
METADATA_KEY = "a2aDeploy"
# Both bindings are served; the card lists the preferred one first (callers pick the first they speak).
PREFERRED = os.environ.get("A2A_PREFERRED_BINDING", "JSONRPC")


def visited_of(context: RequestContext) -> list[str]:
    """The agents this message already passed through (the a2aDeploy loop-protection metadata)."""
    for source in (context.message.metadata if context.message else None, context.metadata):
        if source:
            meta = (MessageToDict(source) if not isinstance(source, dict) else source).get(METADATA_KEY)
            if isinstance(meta, dict) and isinstance(meta.get("visited"), list):
                return [v for v in meta["visited"] if isinstance(v, str)]
    return []


async def ask(peer_id: str, url: str, text: str, visited: list[str]) -> dict:
    """Send `text` to a peer; its reply as {agent, text, data} (an error is reported, not raised)."""
    try:
        client = await create_client(url, client_config=ClientConfig(streaming=False))
        message = new_message([new_text_part(text)], role=Role.ROLE_USER)
        message.metadata.update({METADATA_KEY: {"visited": visited}})
        texts, data = [], None
        async with asyncio.timeout(PEER_TIMEOUT_S):
            async for response in client.send_message(SendMessageRequest(message=message)):
                texts.append(get_stream_response_text(response))
                parts = response.message.parts if response.HasField("message") else [p for a in response.task.artifacts for p in a.parts]
                data = next((MessageToDict(p.data) for p in parts if p.HasField("data")), data)
        return {"agent": peer_id, "text": "\n".join(t for t in texts if t), "data": data if isinstance(data, dict) else {}}
    except Exception as err:  # the caller reports an unreachable peer in its answer
        error = f"could not reach {peer_id} at {url}: {err}"
        return {"agent": peer_id, "text": f"{peer_id}: error: {error}", "data": {"error": error}}


class StageExecutor(AgentExecutor):
    """Reverses the words, hands them to the next stage, answers with the whole trail.

    The reply's data part has the shape the TS pipeline stages use ({agent, result: {trail, final},
    contributions}), so a TS stage calling this one shows it in its trail, and the other way round.
    """

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = get_message_text(context.message) if context.message else ""
        visited = visited_of(context)
        output = " ".join(reversed(text.split()))
        targets = [(peer, url) for peer, url in PEERS.items() if peer not in visited and peer != AGENT_ID]
        next_visited = sorted({*visited, AGENT_ID, *(peer for peer, _ in targets)})
        replies = await asyncio.gather(*(ask(peer, url, output, next_visited) for peer, url in targets))
        trail = [{"agent": AGENT_ID, "op": "python:reverse-words", "output": output}]
        final, error = output, None
        contributions = [{"agent": AGENT_ID, "kind": "python-stage", "summary": f"reverse-words: {output}", "result": output}]
        for reply in replies[:1]:  # a pipeline stage has one next stage
            data = reply["data"]
            result = data.get("result") if isinstance(data.get("result"), dict) else {}
            trail += result.get("trail") or [{"agent": reply["agent"], "op": "?", "output": reply["text"]}]
            final = result.get("final") or reply["text"]
            error = data.get("error")
            contributions += data.get("contributions") or [{"agent": reply["agent"], "kind": "unknown", "summary": reply["text"]}]
        path = " -> ".join(f"{step['agent']}({step['op']})" for step in trail)
        human = f"{path}: error: {error}" if error else f"{path}: {final}"
        result = {"op": "python:reverse-words", "input": text, "output": output, "final": None if error else final, "trail": trail}
        data = {"agent": AGENT_ID, "result": result, "contributions": contributions, **({"error": error} if error else {})}
        reply = new_message([new_text_part(human), new_data_part(data)], context_id=context.context_id)
        await event_queue.enqueue_event(reply)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError("a stage answers in one step; there is nothing to cancel")


def main() -> None:
    card = AgentCard(
        name=AGENT_ID,
        description="Reverses the words of a text, then passes it on",
        # The URL callers dial: exactly AGENT_URL, which a2a-deploy checks before calling the agent ready.
        supported_interfaces=sorted(
            [AgentInterface(url=URL, protocol_binding=b, protocol_version="1.0") for b in ("JSONRPC", "HTTP+JSON")],
            key=lambda i: i.protocol_binding != PREFERRED,
        ),
        version="0.1.0",
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain", "application/json"],
        skills=[AgentSkill(id="reverse", name="reverse", description="reverses the words", tags=["text"])],
    )
    handler = DefaultRequestHandler(agent_executor=StageExecutor(), task_store=InMemoryTaskStore(), agent_card=card)
    routes = (
        create_agent_card_routes(card)
        + create_jsonrpc_routes(handler, rpc_url="/", enable_v0_3_compat=True)
        + create_rest_routes(handler, enable_v0_3_compat=True)
    )
    print(f"[{AGENT_ID}] python a2a-sdk agent listening on {HOST}:{PORT} as {URL} (peers: {PEERS or 'none'})", flush=True)
    uvicorn.run(Starlette(routes=routes), host=HOST, port=PORT, log_level="warning")


if __name__ == "__main__":
    sys.exit(main())
