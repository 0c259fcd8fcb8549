// What a job's execution status makes of its recorded phase, the workers' collection period, the
// priority mapping and the activity slot setting: the pure parts of terminate, collection and priority.
import type { InvalidInputError } from '../../src/api/errors';
import { exitCodeFor } from '../../src/cli/exit-codes';
import { PRIORITY_KEYS, priorityKeyOf, priorityName } from '../../src/config/names';
import { PRIORITIES } from '../../src/job/schema';
import { executionWord, hasEnded, leftoverNote, shownPhase, teardownSkipped } from '../../src/jobs/execution';
import { collectEveryMs } from '../../src/workers/collect-leftovers';
import { maxActivities } from '../../src/workers/worker';

describe('execution status', () => {
  test('only a run known to be over has ended; anything else (a newer status too) counts as live', () => {
    for (const s of ['COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT']) expect(hasEnded(s)).toBe(true);
    for (const s of ['RUNNING', 'CONTINUED_AS_NEW', 'PAUSED', 'UNSPECIFIED']) expect(hasEnded(s)).toBe(false);
  });

  test('a terminated or timed-out run skipped its teardown; a failed or canceled one only if it never recorded its end', () => {
    expect(teardownSkipped('TERMINATED', 'running')).toBe(true);
    expect(teardownSkipped('TERMINATED', 'stopped')).toBe(true); // terminate never lets the workflow act
    expect(teardownSkipped('TIMED_OUT', undefined)).toBe(true);
    expect(teardownSkipped('FAILED', 'failed')).toBe(false); // a deploy failure tears down first
    expect(teardownSkipped('CANCELED', 'stopped')).toBe(false);
    expect(teardownSkipped('CANCELED', 'stopping')).toBe(true);
    expect(teardownSkipped('RUNNING', 'running')).toBe(false);
    expect(teardownSkipped('COMPLETED', 'stopped')).toBe(false);
  });

  test('a terminated job is never shown as running', () => {
    expect(shownPhase('TERMINATED', 'running')).toBe('terminated');
    expect(shownPhase('TIMED_OUT', 'degraded')).toBe('timed-out');
    expect(shownPhase('RUNNING', 'running')).toBe('running');
    expect(shownPhase('COMPLETED', 'stopped')).toBe('stopped');
    expect(shownPhase('COMPLETED', undefined)).toBe('completed');
    expect(executionWord('TIMED_OUT')).toBe('timed-out');
  });

  test('the leftover note says what may run and both ways it goes', () => {
    const note = leftoverNote('web', 'TERMINATED', 3);
    expect(note).toContain('The workflow of job web was terminated without its teardown: its 3 agents may still be running');
    expect(note).toContain('within a minute');
    expect(note).toContain('a2a-deploy gc');
    expect(leftoverNote('web', 'TIMED_OUT', 1)).toContain('was timed out without its teardown: its 1 agent may');
  });
});

describe('worker --collect-every', () => {
  test('30 s by default; the flag wins over A2A_DEPLOY_COLLECT_EVERY; off turns it off', () => {
    expect(collectEveryMs(undefined, {})).toBe(30_000);
    expect(collectEveryMs(undefined, { A2A_DEPLOY_COLLECT_EVERY: '2m' })).toBe(120_000);
    expect(collectEveryMs('10s', { A2A_DEPLOY_COLLECT_EVERY: '2m' })).toBe(10_000);
    expect(collectEveryMs('off', {})).toBeUndefined();
    expect(collectEveryMs(undefined, { A2A_DEPLOY_COLLECT_EVERY: 'OFF' })).toBeUndefined();
  });
  test('a period outside 1s..1h or not a duration is refused (exit 2), naming where it came from', () => {
    expect(() => collectEveryMs('500ms', {})).toThrow("--collect-every '500ms' is not a period between 1s and 1h");
    expect(() => collectEveryMs(undefined, { A2A_DEPLOY_COLLECT_EVERY: '2h' })).toThrow('A2A_DEPLOY_COLLECT_EVERY');
    let thrown: unknown;
    try {
      collectEveryMs('soon', {});
    } catch (err) {
      thrown = err;
    }
    expect(exitCodeFor(thrown)).toBe(2);
    expect((thrown as InvalidInputError).hint).toBe('e.g. 30s, 2m, or off');
  });
});

describe('priority', () => {
  test('every job file priority maps onto a Temporal priorityKey, critical first, normal as Temporal default (3)', () => {
    expect(Object.keys(PRIORITY_KEYS).sort()).toEqual([...PRIORITIES].sort());
    expect(PRIORITIES.map(priorityKeyOf)).toEqual([4, 3, 2, 1]); // low, normal, high, critical
    for (const p of PRIORITIES) expect(priorityName(priorityKeyOf(p))).toBe(p);
    expect(priorityName(undefined)).toBe('normal'); // a run started without a priority
    expect(priorityName(5)).toBeUndefined();
  });

  test('A2A_DEPLOY_MAX_ACTIVITIES sets the worker activity slots (default 200), 1 to 10000', () => {
    expect(maxActivities({})).toBe(200);
    expect(maxActivities({ A2A_DEPLOY_MAX_ACTIVITIES: '4' })).toBe(4);
    for (const bad of ['0', '1.5', 'many', '10001'])
      expect(() => maxActivities({ A2A_DEPLOY_MAX_ACTIVITIES: bad })).toThrow('A2A_DEPLOY_MAX_ACTIVITIES');
  });
});
