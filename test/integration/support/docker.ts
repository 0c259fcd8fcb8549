// Helpers for the container runner's integration tests: a Docker engine and the example
// agents' image (built by the project's own scripts), job plans made from YAML text the
// way the CLI makes them, and cleanup of everything a test job left on the engine.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { createDockerRunner, listJobContainers as listContainersOf } from '../../../src/activities/docker';
import { resolvePlan, type DeployPlan } from '../../../src/job/plan';
import { loadJobText } from '../../../src/job/validate';
import { postMessageV03 } from './a2a-raw';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const IMAGE = 'a2a-deploy/agent:test';

export const docker = new Docker();
/** The container runner on that engine, as a worker would build it. */
export const SERVER_MARKER = 'docker-runner-it';
export const dockerRunner = createDockerRunner({ docker, serverMarker: SERVER_MARKER });
/** Every container this deployer made on that engine (all jobs, or one). */
export const listJobContainers = (job?: string) => listContainersOf(docker, job ? { job } : {});

/** Starts (installing if need be) the engine and builds the agent image; returns their one-line reports. */
export function prepareDocker(): string[] {
  const run = (script: string, ...args: string[]) =>
    execFileSync('bash', [join(ROOT, 'scripts', script), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 540_000,
    }).trim();
  return [run('install-docker.sh'), run('build-agent-image.sh', IMAGE)];
}

/** A deploy plan from job-file YAML, validated like a real job file (relative paths resolve against `dir`). */
export function planFromYaml(yaml: string, dir = ROOT): DeployPlan {
  const file = join(dir, 'docker-it.yaml');
  const loaded = loadJobText(file, yaml);
  if (!loaded.job) throw new Error(`invalid test job:\n${JSON.stringify(loaded.diagnostics, null, 2)}`);
  return resolvePlan(loaded.job, file);
}

/** Removes every container and network labelled with this job (a crashed earlier run's too). */
export async function removeJob(job: string): Promise<void> {
  const filters = { label: [`a2a-deploy.job=${job}`] };
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
  }
}

/** Sends one text message as plain A2A v0.3 JSON-RPC (no agent-card lookup, so a published port is enough). */
export async function sendText(url: string, text: string): Promise<{ text: string; data: any }> {
  const res = await postMessageV03(url, text, { timeoutMs: 20_000 });
  const body: any = await res.json();
  if (body.error) throw new Error(`${url} answered with an error: ${JSON.stringify(body.error)}`);
  const parts: any[] = body.result.parts ?? body.result.status?.message?.parts ?? [];
  return {
    text: parts
      .filter((p) => p.kind === 'text')
      .map((p) => p.text)
      .join('\n'),
    data: parts.find((p) => p.kind === 'data')?.data,
  };
}
