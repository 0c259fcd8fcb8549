// Metrics end to end: a real worker serves /metrics, a real Prometheus (Debian's package,
// installed by scripts/install-prometheus.sh) scrapes it on 127.0.0.1 every second and
// evaluates the shipped alert rules. A job's agents show up as a2a_agent_up 1; a crash-looping
// agent fires A2AAgentCrashLooping; its restart count survives a worker SIGKILL and the replay
// that follows without being counted twice; a stopped job's series go away.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startStack, type Stack } from './support/stack';
import type { JobStatus } from '../../src/workflows/api';

jest.setTimeout(240_000);

const METRICS = '127.0.0.1:19464';
const PROMETHEUS = '127.0.0.1:19090';
const FLAKY = join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js');
const RULES = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');

let stack: Stack;
let prometheus: ChildProcess | undefined;
let dir: string;

const STEADY = `job:
  name: metrics-steady
agents:
  - id: hub
    module: ${FLAKY}
    config: { port: 19380 }
  - id: spoke
    module: ${FLAKY}
    config: { port: 19381 }
topology:
  type: hub-spoke
  hub: hub
  spokes: [spoke]
`;

// Crashes 300 ms after each healthy start; gives up after 5 restarts, so the final count is known.
const CRASHING = `job:
  name: metrics-crash
agents:
  - id: steady
    module: ${FLAKY}
    config: { port: 19382 }
  - id: crashy
    module: ${FLAKY}
    config: { port: 19383 }
    deployment:
      environment: { CRASH_AFTER_MS: 300 }
    restart:
      policy: on-failure
      max_restarts: 5
      window: 10m
      backoff: 1s
      max_backoff: 1s
topology:
  type: hub-spoke
  hub: steady
  spokes: [crashy]
`;

// Never listens, so its 1 s health timeout fails the deploy: the workflow logs a warning.
const NEVER_HEALTHY = `job:
  name: metrics-never
agents:
  - id: sleepy
    module: ${FLAKY}
    config: { port: 19384, health: { timeout: 1s } }
    deployment:
      environment: { DELAY_MS: 60000 }
topology:
  type: pipeline
  stages: [sleepy]
`;

/** What the worker started with --log-format json wrote. */
let jsonLog = '';

beforeAll(async () => {
  const install = spawnSync('bash', [join(ROOT, 'scripts', 'install-prometheus.sh')], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`install-prometheus.sh failed: ${install.stderr}`);
  dir = mkdtempSync(join(tmpdir(), 'a2a-metrics-'));
  writeFileSync(join(dir, 'steady.yaml'), STEADY);
  writeFileSync(join(dir, 'crash.yaml'), CRASHING);
  writeFileSync(join(dir, 'never.yaml'), NEVER_HEALTHY);
  // Short intervals for the test only; the rules are the shipped file, unchanged.
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ['${RULES}']
scrape_configs:
  - job_name: a2a-deploy
    honor_labels: true
    static_configs: [{ targets: ['${METRICS}'] }]
`,
  );
  stack = await startStack(27833, 28833);
  Object.assign(stack.env, { A2A_DEPLOY_METRICS: METRICS, A2A_DEPLOY_METRICS_INTERVAL_MS: '300' });
  await stack.startWorker();
  prometheus = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${PROMETHEUS}`],
    { stdio: 'ignore' },
  );
  await eventually('Prometheus ready', async () => (await fetch(`http://${PROMETHEUS}/-/ready`).catch(() => undefined))?.ok);
});

afterAll(async () => {
  for (const job of ['metrics-steady', 'metrics-crash', 'metrics-never']) stack?.cli(['stop', job, '--force']);
  await stack?.close();
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(expr: string): Promise<Sample[]> {
  const res = await fetch(`http://${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

async function scrape(): Promise<string> {
  return (await fetch(`http://${METRICS}/metrics`)).text();
}

/** The value of one series in exposition text, e.g. seriesValue(text, 'a2a_agent_restarts_total{job="x",agent="y"}'). */
function seriesValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const status = (job: string) => JSON.parse(stack.cli(['status', job, '--json']).stdout) as JobStatus;

test('a deployed job shows every agent up in Prometheus, beside the SDK metrics', async () => {
  expect(stack.cli(['start', join(dir, 'steady.yaml')]).code).toBe(0);
  // `start` returned once every agent was healthy; Prometheus sees it within a read and a scrape.
  const up = await eventually(
    'a2a_agent_up 1 for both agents',
    async () => {
      const r = await promQuery('a2a_agent_up{job="metrics-steady"}');
      return r.length === 2 && r.every((s) => s.value[1] === '1') && r;
    },
    15_000,
  );
  expect(up.map((s) => [s.metric.agent, s.metric.target, s.metric.host, s.value[1]]).sort()).toEqual([
    ['hub', 'localhost', 'localhost', '1'],
    ['spoke', 'localhost', 'localhost', '1'],
  ]);
  const text = await scrape();
  expect(seriesValue(text, 'a2a_agent_state{job="metrics-steady",agent="hub",state="healthy"}')).toBe(1);
  expect(seriesValue(text, 'a2a_agent_start_seconds_count{job="metrics-steady",agent="hub",target="localhost"}')).toBe(1);
  expect(seriesValue(text, 'a2a_deploy_duration_seconds_count{job="metrics-steady"}')).toBe(1);
  expect(text).toMatch(/^a2a_health_probe_seconds_count\{target="localhost",result="ok"\} [1-9]/m);
  expect(seriesValue(text, 'a2a_jobs{phase="running"}')).toBe(1);
  // The Temporal SDK's own metrics come through the same endpoint.
  expect(text).toMatch(/^temporal_\w+/m);
});

test('a crash loop fires the alert, and its restarts are not double counted across a worker SIGKILL', async () => {
  expect(stack.cli(['start', '--detach', join(dir, 'crash.yaml')]).code).toBe(0);
  // Kill the worker in the middle of the loop: the job's workflow replays on the next worker.
  await eventually('two restarts', async () => (status('metrics-crash').agents?.crashy?.restarts ?? 0) >= 2);
  await stack.killWorker('SIGKILL');
  // The replacement worker also writes its log as JSON lines (the last test reads them).
  stack.env.A2A_DEPLOY_LOG_FORMAT = 'json';
  const worker = await stack.startWorker();
  worker.stdout!.on('data', (d) => (jsonLog += d));
  const final = await eventually(
    'crashy to give up',
    async () => {
      const s = status('metrics-crash');
      return s.agents.crashy.state === 'failed' && s;
    },
    120_000,
  );
  expect(final.agents.crashy.restarts).toBe(5);

  // The restarted worker reports exactly the workflow's count, and Prometheus never saw more.
  const series = 'a2a_agent_restarts_total{job="metrics-crash",agent="crashy"}';
  await eventually('the count on /metrics', async () => seriesValue(await scrape(), series) === 5);
  await eventually('Prometheus to scrape the final count', async () => (await promQuery(series))[0]?.value[1] === '5');
  const highest = await promQuery(`max_over_time(${series}[10m])`);
  expect(highest[0].value[1]).toBe('5');

  const firing = await eventually('A2AAgentCrashLooping firing', async () => {
    const res = await fetch(`http://${PROMETHEUS}/api/v1/alerts`);
    const body = (await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    return body.data.alerts.find((a) => a.labels.alertname === 'A2AAgentCrashLooping' && a.state === 'firing');
  });
  expect(firing.labels).toMatchObject({ job: 'metrics-crash', agent: 'crashy', severity: 'warning' });
});

test("a stopped job's series go away", async () => {
  expect(stack.cli(['stop', 'metrics-steady']).code).toBe(0);
  await eventually('the series to go', async () => !/^a2a_agent_up\{job="metrics-steady"/m.test(await scrape()));
  const text = await scrape();
  expect(text).not.toMatch(/^a2a_agent_up\{job="metrics-steady"/m);
  expect(text).not.toMatch(/^a2a_agent_restarts_total\{job="metrics-steady"/m);
  expect(seriesValue(text, 'a2a_jobs{phase="running"}')).toBe(0);
});

test('--log-format json: one JSON object per line, with the job and agent', async () => {
  expect(stack.cli(['start', join(dir, 'never.yaml')]).code).toBe(1);
  const parse = () =>
    jsonLog
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return { unparsed: l };
        }
      });
  const lines = await eventually(
    'the workflow warning',
    async () => parse().some((l) => l.message === 'agent failed to deploy') && parse(),
    30_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; the worker wrote:\n${jsonLog.slice(-3000)}`);
  });
  for (const l of lines) expect(Object.keys(l).slice(0, 2)).toEqual(['time', 'level']);
  expect(lines.find((l) => l.message === 'agent failed to deploy')).toMatchObject({
    level: 'warn',
    job: 'metrics-never',
    agent: 'sleepy',
  });
});

test('the worker logging JSON ends on SIGTERM within seconds, with a job still running', async () => {
  // The core's forwarded logs once kept it alive for good, and a metrics query to a job that no
  // worker answered any more held it for half a minute.
  expect(status('metrics-crash').phase).not.toBe('stopped');
  const worker = stack.worker!;
  const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
  const t0 = Date.now();
  worker.kill('SIGTERM');
  const within = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
  expect(within).toBe(true);
  expect(await exited).toBe(0);
  console.log(`JSON-logging worker exited ${Date.now() - t0} ms after SIGTERM`);
  expect(jsonLog).toMatch(/"state":"STOPPED"/);
  // A worker again, so that the teardown's stops reach the agents.
  await stack.startWorker();
});
