// The package as a user gets it: `npm pack`, installed into a fresh project, and driven from a
// TypeScript script there (type-checked against the package's own declarations) through
// `import { JobManager } from 'a2a-deploy'`: deploy a small job on a real dev server, wait until
// healthy, read its status, stop it; then no agent process is left.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentProcesses, ROOT, startStack, type Stack } from './support/stack';

jest.setTimeout(300_000);
let stack: Stack;
let dir: string;
const job = 'packed-api';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'a2a-pack-'));
  stack = await startStack(26433, 26533);
  await stack.startWorker();
});
afterAll(async () => {
  stack.cli(['stop', job, '--force']);
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// The consumer's script: the job given as a parsed object, the server and home as options (the
// environment it runs in names neither), every result typed by the package's declarations.
const SCRIPT = `
import { JobManager, NotFoundError, type JobReport, type StartProgress } from 'a2a-deploy';

async function main(): Promise<void> {
  const [address, home] = process.argv.slice(2);
  const jm = new JobManager({ address, home });
  const seen: string[] = [];
  const started = await jm.start(
    {
      sourceFile: 'inline-job.yaml',
      job: {
        job: { name: '${job}' },
        agents: [
          { id: 'weather', module: 'a2a-deploy/agents/weather', config: { port: 19501 } },
          { id: 'maps', module: 'a2a-deploy/agents/maps', config: { port: 19502 } },
        ],
        topology: { type: 'mesh', agents: ['weather', 'maps'] },
      },
    },
    { onProgress: (e: StartProgress) => e.type === 'agent' && seen.push(e.agent.id + ':' + e.agent.state) },
  );
  const report: JobReport = await jm.status('${job}');
  const pids = report.source === 'workflow' ? Object.values(report.status.agents).map((a) => a.pid) : [];
  const listed = (await jm.list({ namePrefix: 'packed' })).map((j) => j.job);
  const stopped = await jm.stop('${job}');
  let missing = '';
  try {
    await jm.status('no-such-job');
  } catch (err) {
    if (err instanceof NotFoundError) missing = err.message;
  }
  await jm.close();
  console.log(JSON.stringify({ phase: started.status?.phase, seen, source: report.source, pids, listed, stopped: stopped.phase, missing }));
}
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
`;

test('npm pack, install into a fresh project, deploy and stop a job through JobManager', () => {
  const t0 = Date.now();
  const tarball = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], ROOT).trim().split('\n').pop()!;
  const packedMs = Date.now() - t0;
  const project = join(dir, 'consumer');
  run('mkdir', ['-p', project], dir);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball)], project);
  const installedMs = Date.now() - t0 - packedMs;
  process.stderr.write(`npm pack: ${(packedMs / 1000).toFixed(1)} s; npm install of the tarball: ${(installedMs / 1000).toFixed(1)} s\n`);

  // Type-checked against the installed declarations, resolved through package.json `exports`.
  writeFileSync(join(project, 'deploy.ts'), SCRIPT);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  run(
    process.execPath,
    [
      tsc,
      '--strict',
      '--module',
      'node16',
      '--moduleResolution',
      'node16',
      '--target',
      'es2022',
      '--types',
      'node',
      '--typeRoots',
      join(ROOT, 'node_modules', '@types'),
      '--skipLibCheck',
      'deploy.ts',
    ],
    project,
  );

  const env = { ...process.env, TEMPORAL_ADDRESS: '', A2A_DEPLOY_HOME: join(dir, 'not-this-home') };
  const out = JSON.parse(run(process.execPath, ['deploy.js', stack.address, stack.home], project, env).trim().split('\n').pop()!);
  expect(out.phase).toBe('running');
  expect(out.seen).toEqual(expect.arrayContaining(['weather:healthy', 'maps:healthy']));
  expect(out.source).toBe('workflow');
  expect(out.pids).toHaveLength(2);
  expect(out.listed).toEqual([job]);
  expect(out.stopped).toBe('stopped');
  expect(out.missing).toBe("no job named 'no-such-job'");
  expect(agentProcesses(job)).toEqual([]);
  for (const pid of out.pids as number[]) expect(() => process.kill(pid, 0)).toThrow();
});
