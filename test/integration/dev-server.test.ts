// Drives a real `temporal server start-dev` (needs scripts/install-temporal.sh or TEMPORAL_CLI),
// on ports away from the defaults so it never collides with a developer's own server.
import { Client, Connection } from '@temporalio/client';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../src/process';
import {
  devServerArgs,
  isTemporalReachable,
  SEARCH_ATTRIBUTES,
  startDevServerDetached,
  stopDevServer,
  temporalBinary,
} from '../../src/temporal/dev-server';

jest.setTimeout(90_000);

const PORT = 17233;
const UI_PORT = 18233;
const ADDRESS = `127.0.0.1:${PORT}`;
const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
const BOOL = 5; // INDEXED_VALUE_TYPE_BOOL

let stateDir: string;
const opts = () => ({ stateDir, port: PORT, uiPort: UI_PORT });

async function withConnection<T>(fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: ADDRESS, connectTimeout: '5s' });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'a2a-dev-server-'));
});

afterAll(async () => {
  await stopDevServer(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
});

test('finds the Temporal CLI and builds start-dev arguments', () => {
  expect(temporalBinary()).toMatch(/temporal(\.exe)?$/);
  const args = devServerArgs(opts());
  expect(args.slice(0, 2)).toEqual(['server', 'start-dev']);
  expect(args).toEqual(
    expect.arrayContaining(['--db-filename', join(stateDir, 'temporal.sqlite'), '--port', String(PORT), '--ui-port', String(UI_PORT)]),
  );
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(args).toContain(`${name}=${type}`);
});

test('starts detached and answers on gRPC and the Web UI', async () => {
  expect(await isTemporalReachable(ADDRESS, 500)).toBe(false);
  const server = await startDevServerDetached(opts());
  expect(server.address).toBe(ADDRESS);
  expect(server.uiUrl).toBe(`http://127.0.0.1:${UI_PORT}`);
  expect(readFileSync(join(stateDir, 'temporal-server.pid'), 'utf8')).toBe(String(server.pid));
  expect(server.logFile).toBe(join(stateDir, 'temporal-server.log'));
  expect(existsSync(join(stateDir, 'temporal.sqlite'))).toBe(true);
  expect(await isTemporalReachable(ADDRESS)).toBe(true);
  expect((await fetch(server.uiUrl)).ok).toBe(true);
});

test('registers the search attributes', async () => {
  const { customAttributes } = await withConnection((c) => c.operatorService.listSearchAttributes({ namespace: 'default' }));
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(customAttributes?.[name]).toBe(type === 'Bool' ? BOOL : KEYWORD);
});

test('a second start returns the running server', async () => {
  const first = readFileSync(join(stateDir, 'temporal-server.pid'), 'utf8');
  const again = await startDevServerDetached(opts());
  expect(String(again.pid)).toBe(first);
});

test('keeps workflows across a restart, and restores missing search attributes', async () => {
  const workflowId = `dev-server-test-${Date.now()}`;
  await withConnection(async (connection) => {
    const client = new Client({ connection });
    await client.workflow.start('nobodyRunsThis', { taskQueue: 'dev-server-test-no-worker', workflowId, args: [] });
    // Stands in for a database made before an attribute existed: start-dev only registers
    // attributes when it creates a namespace.
    await connection.operatorService.removeSearchAttributes({ namespace: 'default', searchAttributes: ['A2ATopology'] });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(customAttributes?.A2ATopology).toBeUndefined();
  });

  expect(await stopDevServer(stateDir)).toBe(true);
  expect(await isTemporalReachable(ADDRESS, 500)).toBe(false);
  await startDevServerDetached(opts());

  await withConnection(async (connection) => {
    const description = await new Client({ connection }).workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.type).toBe('nobodyRunsThis');
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(customAttributes?.A2ATopology).toBe(KEYWORD);
  });
});

test('stop terminates the process group and closes the port', async () => {
  const pid = Number(readFileSync(join(stateDir, 'temporal-server.pid'), 'utf8'));
  expect(await stopDevServer(stateDir)).toBe(true);
  expect(existsSync(join(stateDir, 'temporal-server.pid'))).toBe(false);
  // Gone, or a zombie this test process has not reaped yet: either way it runs no more.
  expect(isAlive(pid)).toBe(false);
  expect(await isTemporalReachable(ADDRESS, 500)).toBe(false);
  expect(await stopDevServer(stateDir)).toBe(false);
});

test('a server that cannot start fails with the end of its log', async () => {
  const blocked = await startDevServerDetached(opts());
  try {
    // Same ports, other state directory: start-dev refuses the taken port and exits.
    const other = mkdtempSync(join(tmpdir(), 'a2a-dev-server-'));
    try {
      await expect(startDevServerDetached({ ...opts(), stateDir: other, port: PORT + 1 }, 20_000)).rejects.toThrow(
        /UI port .*address already in use/,
      );
    } finally {
      await stopDevServer(other);
      rmSync(other, { recursive: true, force: true });
    }
  } finally {
    expect(await stopDevServer(stateDir)).toBe(true);
    // Gone, or a zombie this test process has not reaped yet (kill(pid, 0) succeeds on one).
    expect(isAlive(blocked.pid)).toBe(false);
  }
});
