// Shared runtime of the example agents: an A2A server (agent card, JSON-RPC endpoint, /health)
// configured from the environment the deployer provides, and a helper to call peers over A2A.
//
// Environment (set by the deployer):
//   AGENT_ID          this agent's id in the job (default: the module name)
//   AGENT_PORT        port to listen on (required)
//   AGENT_HOST        bind address (default 127.0.0.1)
//   AGENT_URL         own base URL, advertised in the agent card (default http://AGENT_HOST:AGENT_PORT)
//   CONNECTED_AGENTS  comma-separated base URLs of the agents this one calls (may be empty)
//   A2A_PEERS         JSON object id -> base URL of the same agents (gives the peers' ids)
//   PEER_TIMEOUT_MS   per-call timeout when calling a peer (default 30000)
//   PEER_CONNECT_MS   how long to keep retrying a peer that refuses connections (default 10000)
//
// Message protocol: a forwarded message carries metadata {"a2aDeploy": {"visited": [ids]}}; an agent
// forwards only to peers not visited yet and passes visited ∪ {self} ∪ {the peers it forwards to}
// (README, "Writing agents": agents in any language follow it, or a mesh forwards forever).
// A reply is one message with a text part (human readable, names every contributing agent) and a
// data part {agent, result, contributions: [{agent, ...}], error?}. Streamed (message/stream), the
// same reply comes as a task: a status update while the agent waits on its peers, then the reply
// as an artifact, then the completed status.
//
// Bindings: JSON-RPC at AGENT_URL, HTTP+JSON at AGENT_URL/rest; the card at both well-known paths.
//
// The SDK ships CommonJS builds (its package.json has "require" conditions pointing at .cjs files), so
// a plain import compiles to require() and works under module: commonjs. Its one ESM-only dependency
// (jose) is loaded through Node 20's require(esm).
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { AGENT_CARD_PATH, Role, TaskState } from '@a2a-js/sdk';
import type { AgentCard, AgentSkill, Message, Part } from '@a2a-js/sdk';
import { LEGACY_CARD_PATH } from '../a2a/card-paths';
import { dataPart, textPart } from '../a2a/messages';
import { bracketHost } from '../common/host';
import { messageText } from '../a2a/parts';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { UserBuilder, agentCardHandler, jsonRpcHandler, restHandler } from '@a2a-js/sdk/server/express';
import { errorText, readPeers, readVisited, sendText, toPeerReply } from './peers';
import { configError, METADATA_KEY, type Contribution, type Peer, type PeerReply, type ReplyData } from './protocol';
import { indent } from './text';

// What agent modules use, from one place.
export { configError, METADATA_KEY, type Contribution, type Peer, type PeerReply, type ReplyData } from './protocol';
export { indent, round, words } from './text';
export { sendText, toPeerReply } from './peers';

export interface AgentRequest {
  /** This agent's id (AGENT_ID). */
  id: string;
  /** The incoming text (all text parts joined by newlines). */
  text: string;
  /** Agents already involved, from the incoming metadata ([] for a message from a user). */
  visited: string[];
  /** True when the message came from another agent of the job (it carried a2aDeploy metadata). */
  forwarded: boolean;
  /** All configured peers, in configuration order. */
  peers: Peer[];
  /** Peers not in `visited`: the ones this agent may forward to. */
  unvisitedPeers: Peer[];
  /** Send `text` to `targets` (default: every unvisited peer) concurrently; replies in target order. */
  callPeers(text: string, targets?: Peer[]): Promise<PeerReply[]>;
}

export interface HandlerResult {
  /** One-line description of this agent's own contribution. */
  summary: string;
  /** JSON result of this agent. */
  result: unknown;
  /** Full human text; by default `id: summary` followed by the peers' texts, indented. */
  text?: string;
  /** Replies from peers this agent called; their contributions are merged into the reply. */
  peerReplies?: PeerReply[];
  /** Marks the reply as an error (e.g. rejected input, or a peer's error passed on). */
  error?: string;
}

export interface AgentDefinition {
  /** Module name, e.g. `weather`. */
  name: string;
  description: string;
  skills: Array<{ id: string; name: string; description: string; tags?: string[]; examples?: string[] }>;
  handle(request: AgentRequest): Promise<HandlerResult> | HandlerResult;
}

export interface RunningAgent {
  id: string;
  url: string;
  server: Server;
  close(): Promise<void>;
}

function dedupe(list: Contribution[]): Contribution[] {
  const seen = new Set<string>();
  return list.filter((c) => (seen.has(c.agent) ? false : (seen.add(c.agent), true)));
}

function defaultText(id: string, summary: string, peerReplies: PeerReply[]): string {
  return [
    `${id}: ${summary}`,
    ...peerReplies.map((r) => indent(r.error && !r.text.includes(r.error) ? `${r.agent}: error: ${r.error}` : r.text)),
  ].join('\n');
}
// ---------------------------------------------------------------------------------------------
// Server.

const REST_PATH = '/rest';

/** Where the executor learns that its caller streams (message/stream) and wants to see progress. */
const STREAMED = 'a2aDeploy.streamed';

class StreamAwareRequestHandler extends DefaultRequestHandler {
  override async *sendMessageStream(...args: Parameters<DefaultRequestHandler['sendMessageStream']>) {
    args[1].state.set(STREAMED, true);
    yield* super.sendMessageStream(...args);
  }
}

function agentMessage(contextId: string, taskId: string, parts: Part[]): Message {
  return {
    messageId: randomUUID(),
    contextId,
    taskId,
    role: Role.ROLE_AGENT,
    parts,
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

/**
 * Errors before the SDK sees a request (a body over the JSON parser's limit, or one it cannot
 * parse) are answered as A2A errors in the binding's shape, never as Express's HTML page.
 */
function a2aErrors(
  err: { status?: number; statusCode?: number; type?: string; message?: string },
  req: express.Request,
  res: express.Response,
  next: express.NextFunction,
): void {
  if (res.headersSent) return next(err);
  const status = err.status ?? err.statusCode ?? 500;
  const message =
    err.type === 'entity.too.large'
      ? 'message too large: the agent accepts requests of up to 100 KiB'
      : status < 500
        ? `invalid request: ${err.message ?? 'bad request'}`
        : 'internal error';
  if (req.path.startsWith(REST_PATH)) {
    res.status(status).json({ error: { code: status, status: status === 413 ? 'INVALID_ARGUMENT' : 'INTERNAL', message } });
  } else {
    // JSON-RPC errors travel in a 200 answer, as the SDK sends its own.
    res.status(200).json({ jsonrpc: '2.0', id: null, error: { code: status < 500 ? -32600 : -32603, message } });
  }
}

/** Build and start the agent described by `def`; resolves once it is listening. */
export async function runAgent(def: AgentDefinition): Promise<RunningAgent> {
  const id = process.env.AGENT_ID?.trim() || def.name;
  const host = process.env.AGENT_HOST?.trim() || '127.0.0.1';
  const portText = process.env.AGENT_PORT?.trim();
  const port = Number(portText);
  if (!portText || !Number.isInteger(port) || port < 0 || port > 65535)
    configError(`AGENT_PORT must be a port number, got '${portText ?? ''}'`);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : bracketHost(host);
  const url = (process.env.AGENT_URL?.trim() || `http://${urlHost}:${port}`).replace(/\/+$/, '');
  const peers = readPeers();
  const timeoutMs = Number(process.env.PEER_TIMEOUT_MS) || 30_000;
  const connectMs = Number(process.env.PEER_CONNECT_MS) || 10_000;

  const skills: AgentSkill[] = def.skills.map((s) => ({
    id: s.id,
    name: s.name,
    description: s.description,
    tags: s.tags ?? [def.name],
    examples: s.examples ?? [],
    inputModes: ['text/plain'],
    outputModes: ['text/plain', 'application/json'],
    securityRequirements: [],
  }));
  const card: AgentCard = {
    name: id,
    description: def.description,
    // v1.0 first (preferred); v0.3 too, so older A2A clients and plain JSON-RPC callers that send no
    // A2A-Version header (which means 0.3) are answered through the SDK's compat layer.
    supportedInterfaces: [
      { url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
      { url: `${url}${REST_PATH}`, protocolBinding: 'HTTP+JSON', tenant: '', protocolVersion: '1.0' },
      { url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' },
      { url: `${url}${REST_PATH}`, protocolBinding: 'HTTP+JSON', tenant: '', protocolVersion: '0.3' },
    ],
    provider: { organization: 'a2a-deploy', url: 'https://github.com/a2aproject' },
    version: '0.1.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills,
    signatures: [],
  };
  // Not part of the v1.0 AgentCard type, but handy for plain HTTP readers (and what v0.3 cards had).
  Object.assign(card, { url });

  const callPeers = async (visited: string[], text: string, targets: Peer[], progress: (note: string) => void): Promise<PeerReply[]> => {
    if (targets.length) progress(`${id}: asking ${targets.map((p) => p.id).join(', ')}`);
    const nextVisited = [...new Set([...visited, id, ...targets.map((p) => p.id)])];
    return Promise.all(
      targets.map(async (peer) => {
        try {
          const reply = await sendText(peer.url, text, { metadata: { [METADATA_KEY]: { visited: nextVisited } }, timeoutMs, connectMs });
          return toPeerReply(peer, reply);
        } catch (err) {
          const error = `could not reach ${peer.id} at ${peer.url}: ${errorText(err)}`;
          return {
            agent: peer.id,
            url: peer.url,
            ok: false,
            text: `${peer.id}: error: ${error}`,
            result: null,
            contributions: [{ agent: peer.id, kind: 'unreachable', summary: `error: ${error}`, result: null, error }],
            error,
          };
        }
      }),
    );
  };

  const executor: AgentExecutor = {
    async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
      const incoming = ctx.userMessage;
      const text = messageText(incoming);
      const { visited, forwarded } = readVisited(incoming, ctx.request);
      const streamed = ctx.context.state.get(STREAMED) === true;
      const base = { taskId: ctx.taskId, contextId: ctx.contextId, metadata: undefined };
      const status = (state: TaskState, note?: string) => ({
        state,
        message: note === undefined ? undefined : agentMessage(ctx.contextId, ctx.taskId, [textPart(note)]),
        timestamp: new Date().toISOString(),
      });
      // A streaming caller sees the agent at work: a task first, then what it waits for.
      if (streamed) {
        bus.publish(
          AgentEvent.task({
            id: ctx.taskId,
            contextId: ctx.contextId,
            status: status(TaskState.TASK_STATE_WORKING),
            artifacts: [],
            history: [incoming],
            metadata: undefined,
          }),
        );
      }
      const progress = (note: string) =>
        streamed && bus.publish(AgentEvent.statusUpdate({ ...base, status: status(TaskState.TASK_STATE_WORKING, note) }));
      const unvisitedPeers = peers.filter((p) => !visited.includes(p.id) && p.id !== id);
      let data: ReplyData;
      let human: string;
      try {
        const out = await def.handle({
          id,
          text,
          visited,
          forwarded,
          peers,
          unvisitedPeers,
          callPeers: (t, targets) => callPeers(visited, t, targets ?? unvisitedPeers, progress),
        });
        const peerReplies = out.peerReplies ?? [];
        // An error the handler merely passes on from a peer is that peer's, not this agent's.
        const ownError = out.error && !peerReplies.some((r) => r.error === out.error) ? out.error : undefined;
        const own: Contribution = {
          agent: id,
          kind: def.name,
          summary: out.summary,
          result: out.result,
          ...(ownError ? { error: ownError } : {}),
        };
        const contributions = dedupe([own, ...peerReplies.flatMap((r) => r.contributions)]);
        human = out.text ?? defaultText(id, out.summary, peerReplies);
        const missing = contributions.map((c) => c.agent).filter((a) => !human.includes(a));
        if (missing.length) human += `\n(also contributed: ${missing.join(', ')})`;
        data = { agent: id, result: out.result, contributions, ...(out.error ? { error: out.error } : {}) };
      } catch (err) {
        const error = `internal error: ${(err as Error)?.message ?? String(err)}`;
        process.stderr.write(`[${id}] ${(err as Error)?.stack ?? String(err)}\n`);
        human = `${id}: error: ${error}`;
        data = {
          agent: id,
          result: null,
          contributions: [{ agent: id, kind: def.name, summary: `error: ${error}`, result: null, error }],
          error,
        };
      }
      const parts = [textPart(human), dataPart(data)];
      if (streamed) {
        bus.publish(
          AgentEvent.artifactUpdate({
            ...base,
            artifact: { artifactId: randomUUID(), name: 'reply', description: `${id}'s reply`, parts, metadata: undefined, extensions: [] },
            append: false,
            lastChunk: true,
          }),
        );
        // Completed even when the reply reports an error: the error is the answer, in both modes.
        bus.publish(AgentEvent.statusUpdate({ ...base, status: status(TaskState.TASK_STATE_COMPLETED) }));
      } else {
        bus.publish(AgentEvent.message(agentMessage(ctx.contextId, '', parts)));
      }
      bus.finished();
    },
    async cancelTask(): Promise<void> {
      // Replies are produced in one step; there is nothing to cancel.
    },
  };

  const handler = new StreamAwareRequestHandler(card, new InMemoryTaskStore(), executor);
  const app = express();
  app.get('/health', (_req, res) => {
    res.status(200).json({ status: 'ok', agent: id });
  });
  const cardRoute = agentCardHandler({ agentCardProvider: handler, cache: { maxAge: 0 }, legacyCompat: { enabled: true } });
  app.use(`/${AGENT_CARD_PATH}`, cardRoute);
  app.use(LEGACY_CARD_PATH, cardRoute); // where agents before A2A 0.3 served it
  const bindings = { requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat: { enabled: true } };
  app.use(REST_PATH, restHandler(bindings));
  app.use('/', jsonRpcHandler(bindings));
  app.use(a2aErrors);

  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, host);
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      process.stderr.write(`[${id}] cannot listen on ${bracketHost(host)}:${port}: ${why}\n`);
      process.exit(1);
    });
  });
  const addr = server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  process.stdout.write(
    `[${id}] ${def.name} agent listening on ${bracketHost(host)}:${actualPort} as ${url} (peers: ${peers.map((p) => `${p.id}=${p.url}`).join(', ') || 'none'})\n`,
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Requests in flight get a moment to finish, then their connections are cut.
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    }));
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    process.stdout.write(`[${id}] ${signal} received, shutting down\n`);
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    void close().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  return { id, url, server, close };
}

/** Entry-point helper: run the agent, reporting an unexpected startup failure on stderr. */
export function start(def: AgentDefinition): void {
  runAgent(def).catch((err: unknown) => {
    process.stderr.write(`[${process.env.AGENT_ID || def.name}] failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
