import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { advertisedUrl, notReadyMessage, probeReadiness, sameAgentUrl } from '../../src/activities/readiness';
import { readinessOf } from '../../src/job/readiness';
import { resolvePlan } from '../../src/job/plan';
import { loadJobText } from '../../src/job/validate';

describe('readiness type from the job file', () => {
  test('a2a by default, http when a path is given, tcp when asked', () => {
    expect(readinessOf({})).toEqual({ type: 'a2a', path: '/.well-known/agent-card.json' });
    expect(readinessOf({ path: '/health' })).toEqual({ type: 'http', path: '/health' });
    expect(readinessOf({ type: 'http' })).toEqual({ type: 'http', path: '/health' });
    expect(readinessOf({ type: 'tcp' })).toEqual({ type: 'tcp', path: '/' });
  });

  const job = (health: string) => `job: { name: r }
agents:
  - id: a
    command: [x]
    config: { port: 19999${health ? `, health: ${health}` : ''} }
topology: { type: mesh, agents: [a] }
`;
  test('the plan records the type and probes the card by default', () => {
    const loaded = loadJobText('r.yaml', job(''));
    expect(loaded.diagnostics).toEqual([]);
    const a = resolvePlan(loaded.job!, 'r.yaml').agents.a;
    expect(a.health.type).toBe('a2a');
    expect(a.healthUrl).toBe('http://127.0.0.1:19999/.well-known/agent-card.json');
  });
  test('a path with another type than http is an error at its line', () => {
    const loaded = loadJobText('r.yaml', job('{ type: tcp, path: /x }'));
    expect(loaded.diagnostics.map((d) => `${d.line}: ${d.message}`)).toEqual([
      '5: health.path applies to health.type http only (a2a reads the agent card, tcp connects to the port)',
    ]);
  });
});

describe('agent cards', () => {
  test('v1.0: the first supported interface; v0.3: url', () => {
    expect(advertisedUrl({ name: 'a', supportedInterfaces: [{ url: 'http://x:1' }, { url: 'http://y:2' }] })).toEqual({
      ok: true,
      url: 'http://x:1',
    });
    expect(advertisedUrl({ name: 'a', url: 'http://x:1/', protocolVersion: '0.3.0' })).toEqual({ ok: true, url: 'http://x:1/' });
    expect(advertisedUrl({ status: 'ok' }).ok).toBe(false);
    expect(advertisedUrl({ name: 'a' }).ok).toBe(false);
  });
  test('same URL up to a trailing slash and loopback names', () => {
    expect(sameAgentUrl('http://127.0.0.1:5/', 'http://localhost:5')).toBe(true);
    expect(sameAgentUrl('http://0.0.0.0:5', 'http://127.0.0.1:5')).toBe(true);
    expect(sameAgentUrl('http://127.0.0.1:5', 'http://127.0.0.1:6')).toBe(false);
    expect(sameAgentUrl('http://10.1.2.3:5', 'http://127.0.0.1:5')).toBe(false);
  });
});

describe('probes against a real server', () => {
  let server: Server;
  let base: string;
  const routes = new Map<string, { status: number; body: string }>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const r = routes.get(req.url ?? '') ?? { status: 404, body: 'Not Found' };
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => routes.clear());
  const card = (url: string) => JSON.stringify({ name: 'a', supportedInterfaces: [{ url, protocolBinding: 'JSONRPC' }] });

  test('a2a: ready on a card that advertises the agent URL (localhost = 127.0.0.1)', async () => {
    routes.set('/.well-known/agent-card.json', { status: 200, body: card(base.replace('127.0.0.1', 'localhost') + '/') });
    expect(await probeReadiness({ type: 'a2a', probeUrl: `${base}/.well-known/agent-card.json`, agentUrl: base })).toEqual({ ready: true });
  });
  test('a2a: falls back to the pre-0.3 card path', async () => {
    routes.set('/.well-known/agent.json', { status: 200, body: JSON.stringify({ name: 'old', url: base }) });
    expect(await probeReadiness({ type: 'a2a', probeUrl: `${base}/.well-known/agent-card.json`, agentUrl: base })).toEqual({ ready: true });
  });
  test('a2a: a card with another URL fails at once, naming both', async () => {
    routes.set('/.well-known/agent-card.json', { status: 200, body: card('http://127.0.0.1:9') });
    const r = await probeReadiness({ type: 'a2a', probeUrl: `${base}/.well-known/agent-card.json`, agentUrl: base });
    expect(r).toMatchObject({ ready: false, fatal: true });
    expect(!r.ready && r.saw).toContain('http://127.0.0.1:9');
    expect(!r.ready && r.saw).toContain(base);
    expect(!r.ready && r.hint).toContain('AGENT_URL');
  });
  test('a2a: no card, and JSON that is not a card', async () => {
    const t = { type: 'a2a' as const, probeUrl: `${base}/.well-known/agent-card.json`, agentUrl: base };
    const none = await probeReadiness(t);
    expect(none).toMatchObject({ ready: false, saw: expect.stringContaining('HTTP 404') });
    expect(!none.ready && none.hint).toContain('health.type: http');
    routes.set('/.well-known/agent-card.json', { status: 200, body: '{"status":"ok"}' });
    expect(await probeReadiness(t)).toMatchObject({ ready: false, saw: expect.stringContaining('not an agent card') });
  });
  test('http: 2xx is ready; a 404 says so with a hint about health.path', async () => {
    routes.set('/health', { status: 200, body: '{}' });
    expect(await probeReadiness({ type: 'http', probeUrl: `${base}/health`, agentUrl: base })).toEqual({ ready: true });
    const r = await probeReadiness({ type: 'http', probeUrl: `${base}/ready`, agentUrl: base });
    expect(r).toMatchObject({ ready: false, saw: `HTTP 404 at ${base}/ready`, hint: expect.stringContaining('health.path') });
  });
  test('tcp: ready when the port accepts; connection refused otherwise', async () => {
    expect(await probeReadiness({ type: 'tcp', probeUrl: `${base}/`, agentUrl: base })).toEqual({ ready: true });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await probeReadiness({ type: 'tcp', probeUrl: `http://127.0.0.1:${port}/`, agentUrl: '' });
    expect(r).toMatchObject({ ready: false, saw: `connection refused at 127.0.0.1:${port}` });
    const msg = notReadyMessage('x', { type: 'tcp', probeUrl: `http://127.0.0.1:${port}/`, agentUrl: '' }, 500, r);
    expect(msg).toContain('the last probe saw connection refused');
    expect(msg).toContain('AGENT_HOST:AGENT_PORT');
  });
});
