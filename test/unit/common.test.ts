// The small shared pieces: host bracketing, log tails, sleep, and the shared names.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bracketHost, joinHostPort, splitHostPort, unbracketHost } from '../../src/common/host';
import { sleep } from '../../src/common/sleep';
import { lastLines, tailLines } from '../../src/common/text-tail';
import { hostTaskQueue, JOB_PHASES, SEARCH_ATTRIBUTE_NAMES, WORKFLOW_TASK_QUEUE } from '../../src/config/names';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/dev-server';
import { SA_JOB, SA_PAUSED, SA_PHASE, SA_TOPOLOGY } from '../../src/workflows/api';

test('IPv6 literals are bracketed once; names and IPv4 are not', () => {
  expect(bracketHost('::1')).toBe('[::1]');
  expect(bracketHost('[::1]')).toBe('[::1]');
  expect(bracketHost('127.0.0.1')).toBe('127.0.0.1');
  expect(unbracketHost('[fe80::1]')).toBe('fe80::1');
  expect(joinHostPort('::1', 7233)).toBe('[::1]:7233');
  expect(joinHostPort('example.org', 22)).toBe('example.org:22');
  expect(splitHostPort('[::1]:7233', 1)).toEqual(['::1', 7233]);
  expect(splitHostPort('[::1]', 1)).toEqual(['::1', 1]);
  expect(splitHostPort('::1', 1)).toEqual(['::1', 1]);
  expect(splitHostPort('temporal:7234', 1)).toEqual(['temporal', 7234]);
  expect(splitHostPort('temporal', 7233)).toEqual(['temporal', 7233]);
});

test('the tail of a log: the last non-empty lines, from text or from a file', () => {
  expect(lastLines('a\n\nb\nc\n', 2)).toBe('b\nc');
  expect(lastLines('', 5)).toBe('');
  const dir = mkdtempSync(join(tmpdir(), 'a2a-tail-'));
  try {
    const file = join(dir, 'log');
    writeFileSync(file, Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
    expect(tailLines(file, 2)).toBe('line 98\nline 99');
    // Reading only the last bytes: the cut first line is still a line.
    expect(tailLines(file, 100, 12)).toBe(' 98\nline 99');
    expect(tailLines(join(dir, 'none'), 5)).toBe('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sleep ends early, with the rejection, when its cancellation settles', async () => {
  const t0 = Date.now();
  await expect(sleep(1500, Promise.reject(new Error('cancelled')))).rejects.toThrow('cancelled');
  expect(Date.now() - t0).toBeLessThan(1000);
  await sleep(5);
});

test('one set of names: queues, search attributes, phases', () => {
  expect(WORKFLOW_TASK_QUEUE).toBe('a2a-deploy');
  expect(hostTaskQueue('edge-1')).toBe('a2a-deploy-host-edge-1');
  expect([SA_JOB.name, SA_PHASE.name, SA_TOPOLOGY.name, SA_PAUSED.name]).toEqual(Object.values(SEARCH_ATTRIBUTE_NAMES));
  expect(SEARCH_ATTRIBUTES).toEqual({ A2AJobName: 'Keyword', A2APhase: 'Keyword', A2ATopology: 'Keyword', A2APaused: 'Bool' });
  expect(JOB_PHASES).toEqual(['deploying', 'running', 'degraded', 'stopping', 'stopped', 'failed']);
});
