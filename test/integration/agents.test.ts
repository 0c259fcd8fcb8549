// The example agents, as real processes on loopback ports 19500-19599, wired into small topologies
// the way the deployer wires them (AGENT_* / CONNECTED_AGENTS / A2A_PEERS), driven with the A2A SDK.
//
// Jest (on Node 20) cannot load the SDK itself: the SDK's CommonJS build requires `jose`, which is
// ESM-only, and Jest's module loader has no require(esm). So messages are sent by a short-lived
// `node` child process using the SDK client, exactly as any other A2A client would.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postMessageV03 } from './support/a2a-raw';

jest.setTimeout(30_000);

const ROOT = join(__dirname, '..', '..');
const SRC = join(ROOT, 'src', 'agents');
const DIST = join(ROOT, 'dist', 'agents');

interface Agent {
  id: string;
  port: number;
  url: string;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Contribution {
  agent: string;
  kind: string;
  summary: string;
  result: any;
  error?: string;
}
interface Reply {
  text: string;
  data: { agent: string; result: any; contributions: Contribution[]; error?: string };
  raw: any;
}

const agents: Agent[] = [];
const url = (port: number) => `http://127.0.0.1:${port}`;

/** Compile src/agents (only) with the project's compiler options, unless dist is up to date. */
function buildAgents(): void {
  const sources = readdirSync(SRC).filter((f) => f.endsWith('.ts'));
  const stale = sources.some((f) => {
    const out = join(DIST, f.replace(/\.ts$/, '.js'));
    return !existsSync(out) || statSync(out).mtimeMs < statSync(join(SRC, f)).mtimeMs;
  });
  if (!stale) return;
  const dir = mkdtempSync(join(tmpdir(), 'a2a-agents-tsc-'));
  const config = join(dir, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { typeRoots: [join(ROOT, 'node_modules', '@types')] },
      include: [join(SRC, '**', '*.ts')],
    }),
  );
  try {
    const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
    const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function startAgent(module: string, id: string, port: number, peers: Record<string, number> = {}, env: Record<string, string> = {}): Agent {
  const peerUrls = Object.fromEntries(Object.entries(peers).map(([pid, p]) => [pid, url(p)]));
  const child = spawn(process.execPath, [join('dist', 'agents', `${module}.js`)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      AGENT_ID: id,
      AGENT_PORT: String(port),
      AGENT_URL: url(port),
      CONNECTED_AGENTS: Object.values(peerUrls).join(','),
      A2A_PEERS: JSON.stringify(peerUrls),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const agent: Agent = {
    id,
    port,
    url: url(port),
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout!.on('data', (d) => (agent.stdout += d));
  child.stderr!.on('data', (d) => (agent.stderr += d));
  agents.push(agent);
  return agent;
}

async function waitHealthy(agent: Agent, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void agent.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${agent.id} exited during startup:\n${agent.stdout}${agent.stderr}`);
    try {
      const res = await fetch(`${agent.url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${agent.id} not healthy after ${timeoutMs} ms:\n${agent.stdout}${agent.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Runs in a separate node process: send one text message with the SDK client, print the result.
const CLIENT_SCRIPT = `
const { randomUUID } = require('node:crypto');
const { ClientFactory } = require('@a2a-js/sdk/client');
const { Role } = require('@a2a-js/sdk');
const [url, text] = process.argv.slice(1);
(async () => {
  const client = await new ClientFactory().createFromUrl(url);
  const result = await client.sendMessage({
    tenant: '',
    message: {
      messageId: randomUUID(), contextId: '', taskId: '', role: Role.ROLE_USER,
      parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
      metadata: undefined, extensions: [], referenceTaskIds: [],
    },
    configuration: undefined,
    metadata: undefined,
  }, { signal: AbortSignal.timeout(20000) });
  process.stdout.write(JSON.stringify(result));
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

function send(agentUrl: string, text: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', CLIENT_SCRIPT, agentUrl, text], { cwd: ROOT, timeout: 25_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`sending to ${agentUrl} failed: ${err.message}\n${stderr}`));
      const raw = JSON.parse(stdout);
      const parts: any[] = raw.parts ?? raw.status?.message?.parts ?? [];
      const text = parts
        .filter((p) => p.content?.$case === 'text')
        .map((p) => p.content.value)
        .join('\n');
      const data = parts.find((p) => p.content?.$case === 'data')?.content.value;
      resolve({ text, data, raw });
    });
  });
}

const contributors = (r: Reply) => r.data.contributions.map((c) => c.agent);
const contribution = (r: Reply, id: string) => r.data.contributions.find((c) => c.agent === id)!;

// Ports: hub 19500-02, pipeline 19510-13, tree 19520-22, dag 19530-34, mesh 19540-42.
const HUB = { controller: 19500, weather: 19501, maps: 19502 };
const PIPE = { ingest: 19510, validate: 19511, transform: 19512, output: 19513 };
const TREE = { europe: 19520, paris: 19521, berlin: 19522 };
const DAG = { report: 19530, aggregator: 19531, stats: 19532, words: 19533, collector: 19534 };
const MESH = { planner: 19540, researcher: 19541, critic: 19542 };
const meshPeers = (self: keyof typeof MESH) => Object.fromEntries(Object.entries(MESH).filter(([id]) => id !== self));

beforeAll(async () => {
  buildAgents();
  const ports = [HUB, PIPE, TREE, DAG, MESH].flatMap((g) => Object.values(g));
  const busy = (await Promise.all(ports.map(async (p) => ((await portIsFree(p)) ? null : p)))).filter((p) => p !== null);
  if (busy.length) throw new Error(`ports already in use: ${busy.join(', ')}`);

  startAgent('weather', 'weather', HUB.weather);
  startAgent('maps', 'maps', HUB.maps);
  startAgent('coordinator', 'controller', HUB.controller, { weather: HUB.weather, maps: HUB.maps });

  startAgent('text-stage', 'output', PIPE.output, {}, { STAGE_OP: 'count' });
  startAgent('text-stage', 'transform', PIPE.transform, { output: PIPE.output }, { STAGE_OP: 'uppercase' });
  startAgent('text-stage', 'validate', PIPE.validate, { transform: PIPE.transform }, { STAGE_OP: 'validate' });
  startAgent('text-stage', 'ingest', PIPE.ingest, { validate: PIPE.validate }, { STAGE_OP: 'trim' });

  startAgent('sensor', 'paris', TREE.paris, {}, { CITY: 'paris' });
  startAgent('sensor', 'berlin', TREE.berlin, {}, { CITY: 'berlin' });
  startAgent('region', 'europe', TREE.europe, { paris: TREE.paris, berlin: TREE.berlin }, { LABEL: 'Europe' });

  startAgent('data-collector', 'collector', DAG.collector);
  startAgent('analyzer', 'stats', DAG.stats, { collector: DAG.collector }, { ANALYSIS: 'stats' });
  startAgent('analyzer', 'words', DAG.words, { collector: DAG.collector }, { ANALYSIS: 'words' });
  startAgent('coordinator', 'aggregator', DAG.aggregator, { stats: DAG.stats, words: DAG.words });
  startAgent('report', 'report', DAG.report, { aggregator: DAG.aggregator });

  // Only the first mesh member now; the mesh test starts the others after sending (mesh members all
  // start together, so a member must wait for peers that are not listening yet).
  startAgent('researcher', 'planner', MESH.planner, meshPeers('planner'), { FOCUS: 'questions' });

  await Promise.all(agents.map((a) => waitHealthy(a)));
});

afterAll(async () => {
  for (const a of agents) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  await Promise.all(agents.map((a) => a.exited));
});

test('health endpoint and agent card', async () => {
  const health = await fetch(`${url(HUB.weather)}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok', agent: 'weather' });

  // A v1.0 reader (A2A-Version: 1.0) gets the v1.0 card, JSON-RPC at the base URL preferred.
  const res = await fetch(`${url(HUB.controller)}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } });
  expect(res.status).toBe(200);
  const card: any = await res.json();
  expect(card.name).toBe('controller');
  expect(card.url).toBe(url(HUB.controller));
  expect(card.supportedInterfaces[0]).toEqual({ url: url(HUB.controller), protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' });
  expect(card.skills.length).toBeGreaterThan(0);
  // Without the header (= v0.3) the SDK's compat layer serves the v0.3 shape, which has `url` too.
  const legacy = await (await fetch(`${url(HUB.controller)}/.well-known/agent-card.json`)).json();
  expect(legacy).toMatchObject({ name: 'controller', url: url(HUB.controller), protocolVersion: '0.3', preferredTransport: 'JSONRPC' });

  const weather = agents.find((a) => a.id === 'weather')!;
  expect(weather.stdout).toMatch(/\[weather\] weather agent listening on 127\.0\.0\.1:19501/);
});

test('plain v0.3 JSON-RPC (no A2A-Version header) is answered too', async () => {
  const res = await postMessageV03(url(HUB.weather), 'Weather in Tokyo?', { messageId: 'm1' });
  const body: any = await res.json();
  expect(body.result.parts[0]).toEqual({ kind: 'text', text: 'weather: tokyo 24°C humid' });
  expect(body.result.parts[1].data).toMatchObject({
    agent: 'weather',
    result: { forecasts: [{ city: 'tokyo', celsius: 24, conditions: 'humid' }] },
  });
});

test('a message over 100 KiB gets an A2A (JSON-RPC) error naming the limit, not an HTML page (issue 10, defect 9)', async () => {
  const text = 'x'.repeat(120 * 1024);
  const res = await postMessageV03(url(HUB.weather), text, { messageId: 'big' });
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await res.json()) as { error?: { code: number; message: string } };
  expect(body.error).toEqual({ code: -32600, message: 'message too large: the agent accepts requests of up to 100 KiB' });
});

test('hub-spoke: the coordinator combines weather and maps', async () => {
  const r = await send(url(HUB.controller), 'What is the weather in Paris and how far is it from Paris to Berlin?');
  expect(r.data.agent).toBe('controller');
  expect(contributors(r)).toEqual(['controller', 'weather', 'maps']);
  for (const id of ['controller', 'weather', 'maps']) expect(r.text).toContain(id);
  expect(r.text).toContain('paris 18°C cloudy');
  expect(r.data.result).toEqual({ asked: ['weather', 'maps'], answered: ['weather', 'maps'], failed: [] });
  const leg = contribution(r, 'maps').result.legs[0];
  expect(leg).toMatchObject({ from: 'paris', to: 'berlin' });
  expect(Math.abs(leg.km - 878)).toBeLessThanOrEqual(5);
  expect(r.text).toMatch(/paris -> berlin \d+ km/);
  expect(contribution(r, 'weather').result.forecasts[0]).toEqual({ city: 'paris', celsius: 18, conditions: 'cloudy' });
});

test('pipeline: every stage transforms the text in turn', async () => {
  const r = await send(url(PIPE.ingest), '  hello   agent world ');
  expect(r.text).toBe('ingest(trim) -> validate(validate) -> transform(uppercase) -> output(count): HELLO AGENT WORLD [3 words]');
  expect(contributors(r)).toEqual(['ingest', 'validate', 'transform', 'output']);
  expect(r.data.result.final).toBe('HELLO AGENT WORLD [3 words]');
  expect(r.data.result.trail.map((s: any) => s.output)).toEqual([
    'hello agent world',
    'hello agent world',
    'HELLO AGENT WORLD',
    'HELLO AGENT WORLD [3 words]',
  ]);
  expect(r.data.error).toBeUndefined();

  const bad = await send(url(PIPE.ingest), '   ');
  expect(bad.text).toBe('ingest(trim) -> validate(validate): error: empty text rejected');
  expect(bad.data.error).toBe('empty text rejected');
  expect(contributors(bad)).toEqual(['ingest', 'validate']);
  expect(contribution(bad, 'validate').error).toBe('empty text rejected');
  expect(contribution(bad, 'ingest').error).toBeUndefined();
});

test('hierarchy: the region aggregates its sensors', async () => {
  const r = await send(url(TREE.europe), 'report temperatures');
  expect(contributors(r)).toEqual(['europe', 'paris', 'berlin']);
  for (const id of ['europe', 'paris', 'berlin']) expect(r.text).toContain(id);
  expect(r.data.result).toMatchObject({ label: 'Europe', count: 2, mean: 16, min: 14, max: 18 });
  expect(contribution(r, 'paris').result).toEqual({ city: 'paris', celsius: 18 });
  expect(r.text.split('\n')[0]).toBe('europe: Europe: 2 readings, mean 16°C, min 14°C, max 18°C');
});

test('dag: report -> aggregator -> analyzers -> shared collector', async () => {
  const r = await send(url(DAG.report), 'the quick brown fox jumps');
  // Each analyzer reached the collector; it is listed once.
  expect(contributors(r)).toEqual(['report', 'aggregator', 'stats', 'collector', 'words']);
  for (const id of Object.keys(DAG)) expect(r.text).toContain(id);
  expect(contribution(r, 'collector').result).toEqual({ values: [3, 5, 5, 3, 5], source: 'word-lengths' });
  expect(contribution(r, 'stats').result).toMatchObject({ analysis: 'stats', count: 5, mean: 4.2, min: 3, max: 5, source: 'collector' });
  expect(contribution(r, 'words').result).toMatchObject({ analysis: 'words', words: 5, longest: 'quick' });
  expect(r.data.result.contributors).toEqual(['aggregator', 'stats', 'collector', 'words']);
});

test('mesh: the entry member asks the others (started late), who answer locally', async () => {
  const pending = send(url(MESH.planner), 'Agents can talk. Do they agree on answers?');
  await new Promise((r) => setTimeout(r, 500));
  startAgent('researcher', 'researcher', MESH.researcher, meshPeers('researcher'), { FOCUS: 'keywords' });
  startAgent('researcher', 'critic', MESH.critic, meshPeers('critic'), { FOCUS: 'critique' });
  const r = await pending;
  expect(contributors(r)).toEqual(['planner', 'researcher', 'critic']);
  for (const id of Object.keys(MESH)) expect(r.text).toContain(id);
  expect(contribution(r, 'planner').result.question).toBe('Agents can talk. Do they agree on answers?');
  expect(contribution(r, 'researcher').result.keywords).toEqual(['answers', 'agents', 'agree']);
  expect(contribution(r, 'critic').result).toMatchObject({ sentences: 2, words: 8 });
  expect(r.data.result).toMatchObject({ asked: ['researcher', 'critic'], answered: ['researcher', 'critic'] });
});

test('a second agent on a busy port fails with a clear message', async () => {
  const dup = startAgent('weather', 'weather-dup', HUB.weather);
  const { code } = await dup.exited;
  expect(code).not.toBe(0);
  expect(dup.stderr).toContain('cannot listen on 127.0.0.1:19501: address already in use');

  const badOp = startAgent('text-stage', 'bad-stage', 19599, {}, { STAGE_OP: 'shout' });
  expect((await badOp.exited).code).toBe(2);
  expect(badOp.stderr).toContain("STAGE_OP 'shout' is not one of");
});

test('SIGTERM: every agent exits with code 0', async () => {
  const running = agents.filter((a) => a.child.exitCode === null && a.child.signalCode === null);
  expect(running.length).toBe(18);
  for (const a of running) a.child.kill('SIGTERM');
  const results = await Promise.all(running.map(async (a) => ({ id: a.id, ...(await a.exited) })));
  expect(results.filter((r) => r.code !== 0)).toEqual([]);
});
