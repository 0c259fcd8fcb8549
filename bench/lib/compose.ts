// The docker-compose baseline: the same topology as containers of the same image, started by
// docker-compose with health-gated `depends_on: condition: service_healthy` at its fastest
// health-check interval, beside a2a-deploy's own container target.
//
// It runs only when the container target exists (a container runner in the built activities, and
// scripts/build-agent-image.sh to build its image) and a Docker engine answers; otherwise
// `dockerReady` says why not and the harness skips it.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { containerRunnerActivities } from '../../src/activities';
import type { DeployPlan } from '../../src/job/plan';
import { ROOT } from '../../test/integration/support/stack';
import type { Timing } from './results';
import { sleep } from './stats';
import { AGENT, AGENT_DIR } from './topologies';

// Docker runs a health check, waits this long, runs the next; every check execs a process in
// the container, so going lower mostly burns CPU the starting agents need.
const HEALTH_INTERVAL = '50ms';

const run = (cmd: string, args: string[], opts: SpawnSyncOptions = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...opts }) as ReturnType<typeof spawnSync> & {
    stdout: string;
    stderr: string;
  };
const lastLine = (text: string | undefined) => (text ?? '').trim().split('\n').pop();

export interface Docker {
  note: string;
  image: string;
  compose: string[];
  probe: (port: number) => string[];
}

/** The container baseline's tools, or why it cannot run here. */
export function dockerReady(): ({ ok: true } & Docker) | { ok: false; note: string } {
  // The container target, found by what it does: the activities give target 'container' a
  // runner with every runner activity (wherever the files that make it live).
  const runner = containerRunnerActivities();
  if (!['startAgent', 'waitHealthy', 'stopAgent', 'watchAgents', 'readLogs'].every((a) => runner.includes(a)))
    return { ok: false, note: "a2a-deploy has no container runner (target 'container')" };
  const buildScript = join(ROOT, 'scripts', 'build-agent-image.sh');
  if (!existsSync(buildScript) && !process.env.BENCH_AGENT_IMAGE)
    return { ok: false, note: 'scripts/build-agent-image.sh does not exist yet (or set BENCH_AGENT_IMAGE)' };

  if (run('docker', ['info']).status !== 0) {
    const install = join(ROOT, 'scripts', 'install-docker.sh');
    if (!existsSync(install)) return { ok: false, note: 'no Docker engine answers `docker info`' };
    const r = run('bash', [install], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0 || run('docker', ['info']).status !== 0)
      return { ok: false, note: `no Docker engine (scripts/install-docker.sh: ${lastLine(r.stderr || r.stdout)})` };
  }

  let image = process.env.BENCH_AGENT_IMAGE;
  if (!image) {
    // Our own tag, so that a rebuild here never swaps the image under someone else's tests.
    const r = run('bash', [buildScript, 'a2a-deploy/agent:bench']);
    if (r.status !== 0) return { ok: false, note: `scripts/build-agent-image.sh failed: ${lastLine(r.stderr || r.stdout)}` };
    // The script's output names the image somewhere; take the last token Docker knows as an image.
    const tokens = `${r.stdout}\n${r.stderr}`.match(/[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+/g) ?? [];
    image = [...tokens].reverse().find((t) => run('docker', ['image', 'inspect', t]).status === 0);
    if (!image) return { ok: false, note: 'cannot tell which image scripts/build-agent-image.sh built; set BENCH_AGENT_IMAGE' };
  }

  let compose: string[];
  if (run('docker-compose', ['version']).status === 0) compose = ['docker-compose'];
  else if (run('docker', ['compose', 'version']).status === 0) compose = ['docker', 'compose'];
  else {
    // Debian's docker-compose package, as the baseline the brief names.
    run('apt-get', ['update', '-qq']);
    const r = run('apt-get', ['install', '-y', '-qq', 'docker-compose'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0 || run('docker-compose', ['version']).status !== 0)
      return { ok: false, note: `docker-compose is missing and could not be installed: ${lastLine(r.stderr)}` };
    compose = ['docker-compose'];
  }

  // The cheapest health probe the image offers: an HTTP client, else a TCP connect through
  // bash (the fixture agent listens only once ready, so an open port means healthy), else node.
  const findTool = 'for t in curl wget bash; do command -v $t >/dev/null && echo $t && exit; done; echo node';
  const tools =
    run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', findTool]).stdout.trim() ||
    'node (the image has no shell)';
  const probe = (port: number) => {
    const url = `http://127.0.0.1:${port}/health`;
    if (tools === 'curl') return ['CMD', 'curl', '-fsS', '-o', '/dev/null', url];
    if (tools === 'wget') return ['CMD', 'wget', '-q', '-O', '/dev/null', url];
    if (tools === 'bash') return ['CMD', 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`];
    // node: ~100 ms of CPU per probe, which is what a node-only image costs docker-compose.
    return ['CMD', 'node', '-e', `require('http').get('${url}',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`];
  };
  const version = run(compose[0], [...compose.slice(1), 'version', '--short']).stdout.trim();
  return {
    ok: true,
    note: `image ${image}, ${compose.join(' ')} ${version}, health probe: ${tools}, interval ${HEALTH_INTERVAL}`,
    image,
    compose,
    probe,
  };
}

/** The compose file for a plan: one service per agent, the plan's own env, host network. */
function composeFile(plan: DeployPlan, docker: Docker): string {
  const services: Record<string, unknown> = {};
  for (const a of Object.values(plan.agents)) {
    services[a.id] = {
      image: docker.image,
      command: ['node', AGENT],
      network_mode: 'host',
      volumes: [`${AGENT_DIR}:${AGENT_DIR}:ro`],
      environment: a.env,
      healthcheck: { test: docker.probe(a.port), interval: HEALTH_INTERVAL, timeout: '2s', retries: 1000, start_period: '0s' },
      stop_grace_period: `${Math.round(a.stopGraceMs / 1000)}s`,
      ...(a.dependsOn.length ? { depends_on: Object.fromEntries(a.dependsOn.map((d) => [d, { condition: 'service_healthy' }])) } : {}),
    };
  }
  // JSON is valid YAML, and compose reads it as such.
  return JSON.stringify({ services }, null, 1);
}

function composeRun(docker: Docker, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(docker.compose[0], [...docker.compose.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? done(out) : fail(new Error(`${docker.compose.join(' ')} ${args.join(' ')}: exit ${code}\n${out.slice(-2000)}`)),
    );
  });
}

/** How many containers of a compose project Docker reports healthy (Engine API, unix socket). */
function healthyCount(project: string): Promise<number> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`], health: ['healthy'] }));
  const socketPath = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
  return new Promise((done, fail) => {
    http
      .get({ socketPath, path: `/containers/json?filters=${filters}` }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          try {
            done((JSON.parse(body) as unknown[]).length);
          } catch (e) {
            fail(e as Error);
          }
        });
      })
      .on('error', fail);
  });
}

let active: (() => Promise<unknown>) | undefined; // `down` for the project under way, for an interrupt

/** Takes down the compose project under way, if any (an interrupted run leaves no containers). */
export async function downActiveCompose(): Promise<void> {
  await active?.().catch(() => {});
}

/** One compose run: `up -d` and wait until Docker says every container is healthy; then `down`. */
export async function composeDeployAndTeardown(docker: Docker, plan: DeployPlan, dir: string): Promise<Timing> {
  const file = join(dir, `${plan.job}.compose.json`);
  writeFileSync(file, composeFile(plan, docker));
  const project = plan.job;
  const n = Object.keys(plan.agents).length;
  active = () => composeRun(docker, ['-p', project, '-f', file, 'down', '-t', '1']);
  const t0 = performance.now();
  try {
    await composeRun(docker, ['-p', project, '-f', file, 'up', '-d']);
    while ((await healthyCount(project)) < n) await sleep(10);
    const deployMs = performance.now() - t0;
    const t1 = performance.now();
    await composeRun(docker, ['-p', project, '-f', file, 'down']);
    return { deployMs, teardownMs: performance.now() - t1 };
  } catch (err) {
    await downActiveCompose();
    throw err;
  } finally {
    active = undefined;
  }
}
