// deployment.cpus, memory and pids in a job file: the units, the plausible ranges, what a target
// cannot enforce (errors, at their line, with a hint), and values beyond this machine (warnings).
import { availableParallelism } from 'node:os';
import { formatDiagnostic } from '../../src/job/diagnostics';
import { loadJobText } from '../../src/job/validate';
import { resourceChecks } from '../../src/job/resource-checks';
import { parseYamlText } from '../../src/job/yaml-source';

const job = (deployment: string, run = 'module: ./a.js') =>
  [
    'job: { name: lim }',
    'agents:',
    '  - id: a',
    `    ${run}`,
    '    config: { port: 9001 }',
    `    deployment: { ${deployment} }`,
    'topology: { type: mesh, agents: [a] }',
    '',
  ].join('\n');
const said = (deployment: string, run?: string) =>
  loadJobText('lim.yaml', job(deployment, run)).diagnostics.map((d) => formatDiagnostic(d).replace(/\n {2}hint: /, ' | '));

test('well-formed limits pass, and reach the plan', () => {
  const loaded = loadJobText('lim.yaml', job('memory: 256m, cpus: 0.5, pids: 64'));
  expect(loaded.diagnostics).toEqual([]);
  expect(loaded.job!.agents[0].deployment).toMatchObject({ memory: '256m', cpus: 0.5, pids: 64 });
});

test('units: a size without a unit is bytes, and a limit of bytes is refused with the likely meaning', () => {
  expect(said('memory: "256"')).toEqual([
    "lim.yaml:6:27: error: memory of agent 'a' is 256 bytes: no program starts within less than 4m | a size without a unit is bytes: did you mean '256m'?",
  ]);
  expect(said('memory: 1.5g')).toEqual(["lim.yaml:6:27: error: memory is a size like '256m' or '1g'"]);
  expect(said('memory: 2t')).toEqual(["lim.yaml:6:27: error: memory is a size like '256m' or '1g'"]);
  expect(said('memory: 2048g')).toEqual([
    "lim.yaml:6:27: error: memory of agent 'a' is 2048g: more than 1024g is not a plausible limit | give a size like '256m' or '4g'",
  ]);
});

test('ranges of cpus and pids, each at its place with a hint', () => {
  expect(said('cpus: 0.001')).toEqual([
    "lim.yaml:6:25: error: cpus of agent 'a' is 0.001: the kernel cannot give less than 0.01 of a core | give a share of a core like 0.1 or 0.5, or whole cores like 2",
  ]);
  expect(said('cpus: 0')).toEqual(['lim.yaml:6:25: error: cpus must be more than 0, e.g. 0.5']);
  expect(said('cpus: "half"')).toEqual(['lim.yaml:6:25: error: cpus is a number of cores, e.g. 0.5 or 2']);
  expect(said('cpus: 5000')[0]).toContain("cpus of agent 'a' is 5000: more than 1024 cores is not a plausible limit");
  expect(said('pids: 2.5')).toEqual([
    'lim.yaml:6:25: error: pids is a whole number: the most processes and threads the agent may have, e.g. 64',
  ]);
  expect(said('pids: 0')[0]).toContain('pids is a whole number');
  expect(said('pids: 5000000')[0]).toContain("more than the kernel's 4194304 processes");
});

test('beyond what this machine has: a warning, not an error (the job still loads)', () => {
  const cores = availableParallelism();
  const loaded = loadJobText('lim.yaml', job(`cpus: ${cores + 1}, memory: 1000g`));
  expect(loaded.job).toBeDefined();
  expect(loaded.diagnostics.map((d) => `${d.severity}: ${d.message}`)).toEqual([
    `warning: cpus of agent 'a' (${cores + 1}) is more than this machine's ${cores} cores`,
    expect.stringMatching(/^warning: memory of agent 'a' \(1000g\) is more than this machine has \(\d+(\.\d)?g\)$/),
  ]);
  // A host worker's machine is not this one: nothing to compare with.
  const src = parseYamlText('w.yaml', job('worker: h1, memory: 1000g'), {}).source!;
  const raw = parseYamlText('w.yaml', job('worker: h1, memory: 1000g'), {}).value as Record<string, unknown>;
  expect(resourceChecks(src, raw, { memoryBytes: 2 ** 30, cpus: 1 })).toEqual([]);
});

test('a Node agent with too few pids is warned it may not start; a command agent is not', () => {
  expect(said('pids: 8')).toEqual([
    "lim.yaml:6:25: warning: pids of agent 'a' is 8: a Node agent runs about a dozen threads before doing anything | give at least 16, e.g. 64, or it may fail to start",
  ]);
  expect(said('pids: 8', 'command: [sleep, "100"]')).toEqual([]);
});

test('a limit the target cannot enforce is an error, never silently ignored', () => {
  // SSH agents get the same groups on their host, through the remote script.
  expect(said('target: remote, host: h1, memory: 256m, cpus: 0.5, pids: 64')).toEqual([]);
  expect(said('target: kubernetes, image: x, pids: 64')).toEqual([
    "lim.yaml:6:55: error: pids is not enforced on kubernetes (agent 'a') | a pod's process limit is the kubelet's podPidsLimit, set per node: remove pids here",
  ]);
});
