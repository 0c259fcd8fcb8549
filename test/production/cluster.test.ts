// Production, verified: a real Temporal server (v1.32.2) on PostgreSQL whose frontend
// requires mutual TLS, the Web UI, a main worker and a host worker (in its own network
// namespace, dialling the frontend directly) that authenticate with their own client
// certificates; jobs/examples/multi-target.yaml (a container, an SSH host, a host worker)
// deployed as one job; a SIGKILLed server and a restarted PostgreSQL in the middle of a deploy.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobStatus } from '../../src/workflows/api';
import { docker, prepareDocker, removeJob } from '../integration/support/docker';
import { startSshd, type Sshd } from '../integration/support/sshd';
import { agentProcesses, waitFor } from '../integration/support/stack';
import { cleanEnv, cli, clusterUp, ROOT, startWorker, stopProcess, type Cluster } from './support/cluster';

jest.setTimeout(900_000);
const NETNS = join(ROOT, 'scripts', 'netns-hosts.sh');
const BRIDGE_IP = '10.203.0.1'; // the frontend's address: hosts (network namespaces) dial it directly
const JOB = 'multi-target';
const tmp = mkdtempSync(join(tmpdir(), 'a2a-prod-'));
chmodSync(tmp, 0o755); // PostgreSQL runs as user postgres and must reach its data directory
let cluster: Cluster;
let sshd: Sshd | undefined;
let mainWorker: ChildProcess | undefined;
let hostWorker: ChildProcess | undefined;
let env: NodeJS.ProcessEnv; // the CLI's: the admin profile file only
let jobFile: string;
let deployedProcesses = 0;

beforeAll(async () => {
  prepareDocker();
  await removeJob(JOB);
  execFileSync('bash', [NETNS, 'up', 'h1']);
  cluster = clusterUp(join(tmp, 'cluster'), BRIDGE_IP);
  env = { ...cleanEnv(), A2A_DEPLOY_HOME: join(tmp, 'home'), TEMPORAL_CONFIG_FILE: cluster.profile, TEMPORAL_UI_URL: cluster.uiUrl };
  sshd = startSshd('/tmp/a2a-sshd', 22222);
  // The example as published, with the SSH host's workdir (A2A_EXAMPLE_WORKDIR) at this checkout.
  const example = readFileSync(join(ROOT, 'jobs', 'examples', 'multi-target.yaml'), 'utf8');
  const workdir = /workdir: \$\{A2A_EXAMPLE_WORKDIR:\?[^}]*\}/;
  expect(example).toMatch(workdir);
  jobFile = join(tmp, 'multi-target.yaml');
  writeFileSync(jobFile, example.replace(workdir, `workdir: ${ROOT}`));
}, 1_800_000);

afterAll(async () => {
  if (env) cli(['stop', JOB, '--force'], env);
  await stopProcess(hostWorker, 'SIGKILL');
  await stopProcess(mainWorker);
  await removeJob(JOB);
  sshd?.stop();
  try {
    cluster?.script('down', '--purge');
  } finally {
    execFileSync('bash', [NETNS, 'down', 'h1']);
    rmSync(tmp, { recursive: true, force: true });
  }
});

const status = (): JobStatus => JSON.parse(cli(['status', JOB, '--json'], env).stdout);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jobContainers = async () => docker.listContainers({ all: true, filters: { label: [`a2a-deploy.job=${JOB}`] } });

/** The main worker authenticates through TEMPORAL_TLS_* variables (no profile file), with a server name override. */
function mainWorkerEnv(): NodeJS.ProcessEnv {
  const bundle = cluster.script('client', 'main-worker').trim();
  return {
    ...cleanEnv(),
    A2A_DEPLOY_HOME: join(tmp, 'home'),
    TEMPORAL_CONFIG_FILE: join(tmp, 'no-profile.toml'),
    TEMPORAL_ADDRESS: cluster.frontend,
    TEMPORAL_TLS_CLIENT_CERT_PATH: join(bundle, 'main-worker.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: join(bundle, 'main-worker.key'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(bundle, 'ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal-server',
  };
}

/** Host h1's worker joins with its own certificate and profile, from inside its network namespace. */
async function startHostWorker(): Promise<ChildProcess> {
  const bundle = cluster.script('client', 'h1').trim();
  return startWorker(
    { ...cleanEnv(), A2A_DEPLOY_HOME: join(tmp, 'host-h1'), TEMPORAL_CONFIG_FILE: join(bundle, 'temporal.toml') },
    { name: 'h1', netns: 'a2a-h1' },
  );
}

test('the frontend refuses a client without a certificate, or with one from another CA: exit 3 and a hint', () => {
  const bare = {
    ...cleanEnv(),
    A2A_DEPLOY_HOME: join(tmp, 'home'),
    TEMPORAL_CONFIG_FILE: join(tmp, 'none.toml'),
    TEMPORAL_ADDRESS: cluster.frontend,
  };
  const plain = cli(['list'], bare, 60_000);
  expect(plain.code).toBe(3);
  expect(plain.stderr).toContain(`cannot reach Temporal at ${cluster.frontend}`);
  expect(plain.stderr).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH');

  // A certificate from another CA, presented to a server that trusts only its own.
  const rogue = join(tmp, 'rogue');
  const certs = join(ROOT, 'scripts', 'production', 'certs.sh');
  execFileSync('bash', [certs, rogue, 'ca']);
  execFileSync('bash', [certs, rogue, 'client', 'intruder']);
  const foreign = cli(
    ['list'],
    {
      ...bare,
      TEMPORAL_TLS_CLIENT_CERT_PATH: join(rogue, 'intruder.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(rogue, 'intruder.key'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(cluster.dir, 'certs', 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal-server',
    },
    60_000,
  );
  expect(foreign.code).toBe(3);
  expect(foreign.stderr).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH');

  // The same profile file serves a2a-deploy and the temporal CLI.
  expect(cli(['list'], env).code).toBe(0);
  const temporal = process.env.TEMPORAL_CLI || join(ROOT, '.tools', 'bin', 'temporal');
  const ns = execFileSync(temporal, ['operator', 'namespace', 'describe', '--namespace', 'default', '-o', 'json'], {
    env,
    encoding: 'utf8',
  });
  expect(JSON.parse(ns).config.workflowExecutionRetentionTtl).toBe('604800s');
  const attrs = execFileSync(temporal, ['operator', 'search-attribute', 'list', '-o', 'json'], { env, encoding: 'utf8' });
  for (const name of ['A2AJobName', 'A2APhase', 'A2ATopology', 'A2APaused']) expect(attrs).toContain(name);
});

test('the Web UI serves the cluster through its own client certificate', async () => {
  const res = await fetch(`${cluster.uiUrl}/api/v1/namespaces/default`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).namespaceInfo.name).toBe('default');
});

test('multi-target.yaml deploys as one job: a container, an SSH host and a host worker; send crosses all three', async () => {
  mainWorker = await startWorker(mainWorkerEnv());
  hostWorker = await startHostWorker();
  const r = cli(['start', jobFile], env);
  expect(r.stdout).toContain(`Job ${JOB} is running`);
  const s = status();
  expect(Object.values(s.agents).map((a) => [a.id, a.state])).toEqual([
    ['controller', 'healthy'],
    ['weather', 'healthy'],
    ['maps', 'healthy'],
    ['paris', 'healthy'],
  ]);
  expect(s.agents.weather.containerId).toBeTruthy();
  // paris runs on host h1: in h1's network namespace, started by h1's own worker.
  const netnsOf = (pid: number) => readlinkSync(`/proc/${pid}/ns/net`);
  const h1 = execFileSync('ip', ['netns', 'exec', 'a2a-h1', 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim();
  expect(netnsOf(s.agents.paris.pid!)).toBe(h1);
  expect(netnsOf(s.agents.maps.pid!)).toBe(readlinkSync('/proc/self/ns/net'));
  expect(await jobContainers()).toHaveLength(1);
  const sent = cli(['send', JOB, 'What is the weather in Paris and how far is it from Paris to Berlin?'], env);
  expect(sent.code).toBe(0);
  for (const part of ['paris 18°C cloudy', 'paris -> berlin', 'paris 18°C', 'combined answers from']) expect(sent.stdout).toContain(part);
  expect(sent.stdout).toMatch(/combined answers from (weather|maps|paris), (weather|maps|paris), (weather|maps|paris)/);
  // Processes carrying the job's agent markers (a container's and an SSH agent's included), for comparison below.
  deployedProcesses = agentProcesses(JOB).length;
  expect(deployedProcesses).toBeGreaterThanOrEqual(4);
});

/**
 * Deploys the job again and does `disrupt` as soon as the start returns: the deploy (four
 * agents on three kinds of target) is then under way; polling for a midpoint loses the race
 * to a quick deploy.
 */
async function deployThrough(disrupt: () => Promise<void>): Promise<void> {
  expect(cli(['stop', JOB], env).code).toBe(0);
  expect(agentProcesses(JOB)).toEqual([]);
  expect(cli(['start', '--detach', jobFile], env).code).toBe(0);
  await disrupt();
  const done = await waitFor(
    'the job running again',
    () => {
      const r = cli(['status', JOB, '--json'], env);
      return r.code === 0 && (JSON.parse(r.stdout) as JobStatus).phase === 'running' && (JSON.parse(r.stdout) as JobStatus);
    },
    300_000,
  );
  // Nothing duplicated, nothing lost: as many agent processes as a quiet deploy makes, one container, every agent healthy once.
  expect(Object.values(done.agents).every((a) => a.state === 'healthy' && a.restarts === 0)).toBe(true);
  expect(agentProcesses(JOB)).toHaveLength(deployedProcesses);
  expect(await jobContainers()).toHaveLength(1);
  expect(cli(['send', JOB, 'report temperatures'], env).stdout).toContain('paris 18°C');
}

test('SIGKILL of the Temporal server mid-deploy: the job completes, nothing duplicated, nothing lost', async () => {
  await deployThrough(async () => {
    process.kill(cluster.serverPid(), 'SIGKILL');
    await sleep(2000);
    cluster.script('up');
  });
});

test('a restart of PostgreSQL mid-deploy: the job completes, nothing duplicated, nothing lost', async () => {
  await deployThrough(async () => {
    cluster.script('restart-postgres');
  });
});

test('stop leaves nothing: no agent process (local, SSH, host h1, container), no container', async () => {
  expect(cli(['stop', JOB], env).code).toBe(0);
  expect(agentProcesses(JOB)).toEqual([]);
  expect(await jobContainers()).toEqual([]);
});

test('docker-compose.yml is valid and runs the server version and configuration tested here', () => {
  const config = execFileSync('docker-compose', ['config'], {
    cwd: ROOT,
    env: { ...process.env, A2A_PG_PASSWORD: 'pw' },
    encoding: 'utf8',
  });
  expect(config).toContain('image: a2a-deploy/temporal-server:1.32.2');
  expect(config).toContain('127.0.0.1:29233:29233');
  const pinned = (file: string, re: RegExp) => re.exec(readFileSync(join(ROOT, file), 'utf8'))?.[1];
  const tested = pinned('scripts/production/install-server.sh', /^SERVER_VERSION=(v[\d.]+)$/m);
  expect(tested).toBe('v1.32.2');
  expect(pinned('deploy/production/Dockerfile', /TEMPORAL_SERVER_VERSION=(v[\d.]+)/)).toBe(tested);
  expect(pinned('deploy/production/Dockerfile', /COPY (temporal-server\.yaml) /)).toBe('temporal-server.yaml');
});
