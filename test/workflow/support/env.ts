// Temporal's time-skipping test server (the Java one that scripts/install-test-server.sh puts in
// .tools/: the SDK's own would be downloaded at run time, which this machine cannot do) and a
// worker running the real workflow code against fake agents.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SEARCH_ATTRIBUTES } from '../../../src/temporal/dev-server';
import { FakeAgents } from './fake-job';

const ROOT = resolve(__dirname, '..', '..', '..');
export const TEST_SERVER = join(ROOT, '.tools', 'bin', 'temporal-test-server');
// temporal.api.enums.v1.IndexedValueType
const INDEXED = { Keyword: 2, Bool: 5 } as const;

export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  fake: FakeAgents;
  taskQueue: string;
  /** runs the worker until close() */
  close(): Promise<void>;
}

let runtimeInstalled = false;

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

/**
 * The workflow code bundled from src/, cached under .tools/ by a hash of the sources and the
 * lockfile: webpack takes about 10 s on a loaded 2-core machine, and each test file needs it.
 */
async function workflowBundle(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of [...sourceFiles(join(ROOT, 'src')).sort(), join(ROOT, 'package-lock.json')]) hash.update(f).update(readFileSync(f));
  const dir = join(ROOT, '.tools', 'cache');
  const path = join(dir, `workflow-bundle-${hash.digest('hex').slice(0, 16)}.js`);
  if (existsSync(path)) return path;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../../src/workflows'),
    logger: new DefaultLogger('WARN'),
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${path}.${process.pid}`, code);
  renameSync(`${path}.${process.pid}`, path); // whole or not at all, should two test files race
  return path;
}

export async function startWorkflowTestEnv(taskQueue: string): Promise<WorkflowTestEnv> {
  if (!existsSync(TEST_SERVER)) throw new Error(`${TEST_SERVER} is missing: run bash scripts/install-test-server.sh (npm test does)`);
  if (!runtimeInstalled) {
    // Only warnings and errors: a test's output should be its results.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEST_SERVER } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED[type]])),
  });
  const fake = new FakeAgents();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: await workflowBundle() },
    activities: fake.activities(),
  });
  const running = worker.run();
  return {
    env,
    fake,
    taskQueue,
    async close() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
