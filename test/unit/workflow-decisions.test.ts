// The deploy workflow's decisions (src/workflows/decisions.ts) and failure messages, without
// Temporal: restart policy and window, backoff, settling the phase, refusals, redeploy reshaping.
import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import type { AgentEvent } from '../../src/activities/types';
import { diffPlans } from '../../src/job/diff';
import {
  adoptPlan,
  decideCrash,
  initialStatus,
  memoBulkChanges,
  memoDue,
  refusePause,
  refuseRestart,
  refuseResume,
  refuseStop,
  restartTargets,
  restorePlan,
  settledPhase,
  statusMemo,
  type JobState,
} from '../../src/workflows/decisions';
import { failureMessage } from '../../src/workflows/failure-message';
import { makePlan } from '../workflow/support/fake-job';

const MIN = 60_000;
const crash: AgentEvent = { id: 'a', kind: 'exited', exitCode: 1, detail: 'a exited with code 1', stderr: 'boom' };
const policy = { policy: 'always' as const, maxRestarts: 3, windowMs: 10 * MIN, backoffMs: 1_000, maxBackoffMs: 5_000 };
const plan = makePlan('j', [{ id: 'back' }, { id: 'front', calls: ['back'] }, { id: 'side' }], 'q');
const state = (over: Partial<JobState> = {}): JobState => {
  const status = initialStatus(plan, 'T0');
  status.phase = 'running';
  return { plan, status, restartTimes: {}, watchEpoch: 0, inFlight: 0, ...over };
};

describe('restart policy', () => {
  test('backoff doubles with each restart in the window, up to max_backoff', () => {
    const times: number[] = [];
    const backoffs = [];
    for (let i = 0; i < 3; i++) {
      const d = decideCrash(crash, { ...policy, maxRestarts: 9 }, times, i * 1000);
      if (d.action !== 'restart') throw new Error(d.action);
      backoffs.push(d.backoffMs);
      times.splice(0, times.length, ...d.restartTimes);
    }
    expect(backoffs).toEqual([1_000, 2_000, 4_000]);
    const fourth = decideCrash(crash, { ...policy, maxRestarts: 9 }, [0, 1, 2, 3], 10);
    expect(fourth).toMatchObject({ action: 'restart', backoffMs: 5_000 });
  });

  test('gives up after max_restarts within the window; older restarts are forgotten', () => {
    const within = decideCrash(crash, policy, [0, MIN, 2 * MIN], 3 * MIN);
    expect(within).toMatchObject({ action: 'give-up' });
    expect(within.lastError).toBe("a exited with code 1\n--- last lines of a's stderr ---\nboom\n(gave up after 3 restarts within 600s)");
    const later = decideCrash(crash, policy, [0, MIN, 2 * MIN], 10 * MIN + 1);
    expect(later).toMatchObject({ action: 'restart', backoffMs: 4_000, restartTimes: [MIN, 2 * MIN, 10 * MIN + 1] });
  });

  test('never leaves it failed; on-failure leaves a clean exit as exited', () => {
    expect(decideCrash(crash, { ...policy, policy: 'never' }, [], 0)).toMatchObject({ action: 'leave', state: 'failed' });
    const clean = { ...crash, exitCode: 0, stderr: '' };
    expect(decideCrash(clean, { ...policy, policy: 'on-failure' }, [], 0)).toEqual({
      action: 'leave',
      state: 'exited',
      lastError: 'a exited with code 1',
    });
    expect(decideCrash(clean, policy, [], 0)).toMatchObject({ action: 'restart' });
  });
});

test('a running job settles degraded while an agent is failed or exited, running otherwise; other phases stay', () => {
  const s = state().status;
  expect(settledPhase(s)).toBe('running');
  s.agents.side.state = 'exited';
  expect(settledPhase(s)).toBe('degraded');
  s.agents.side.state = 'healthy';
  s.phase = 'degraded';
  expect(settledPhase(s)).toBe('running');
  s.agents.side.state = 'failed';
  s.phase = 'deploying';
  expect(settledPhase(s)).toBe('deploying');
});

describe('refusals', () => {
  test('stop, pause and resume say why they make no sense', () => {
    expect(refuseStop(state())).toBeUndefined();
    expect(refuseStop(state({ stopRequest: {} }))).toBe('job j is already stopping');
    const failed = state();
    failed.status.phase = 'failed';
    expect(refuseStop(failed)).toBe('job j is already failed and torn down');
    expect(refusePause(failed)).toBe('job j is failed; there is nothing to pause');
    const paused = state();
    paused.status.paused = true;
    expect(refusePause(paused)).toBe('job j is already paused');
    expect(refuseResume(paused)).toBeUndefined();
    expect(refuseResume(state())).toBe('job j is not paused');
  });

  test('restart needs a running job and known agents', () => {
    expect(refuseRestart(state(), { agents: ['front'] })).toBeUndefined();
    expect(refuseRestart(state(), { agents: ['front', 'x'] })).toBe('job j has no agent x (its agents: back, front, side)');
    const deploying = state();
    deploying.status.phase = 'deploying';
    expect(refuseRestart(deploying, undefined)).toBe('job j is deploying; a restart needs it running');
    expect(refuseRestart(state({ stopRequest: {} }), undefined)).toBe('job j is stopping; a restart needs it running');
  });

  test('restart targets come callees first', () => {
    expect(restartTargets(plan, undefined)).toEqual(['back', 'side', 'front']);
    expect(restartTargets(plan, { agents: ['front', 'back'] })).toEqual(['back', 'front']);
  });
});

test('a redeploy reshapes the status for the new plan, and a rollback restores it with the restart counts', () => {
  const s = state().status;
  s.agents.back.restarts = 4;
  const next = makePlan('j', [{ id: 'back', version: 2 }, { id: 'front', calls: ['back'] }, { id: 'new' }], 'q');
  const d = diffPlans(plan, next);
  expect([d.added, d.removed, d.changed]).toEqual([['new'], ['side'], ['back']]);
  delete s.agents.side; // the workflow drops removed agents once they are down
  adoptPlan(s, next, d, 'T1');
  expect(Object.keys(s.agents).sort()).toEqual(['back', 'front', 'new']);
  expect(s.agents.new).toMatchObject({ state: 'pending', since: 'T1', restarts: 0 });
  restorePlan(s, plan, d, 'T2');
  expect(Object.keys(s.agents).sort()).toEqual(['back', 'front', 'side']);
  expect(s.agents.back).toMatchObject({ state: 'pending', restarts: 4, since: 'T2' });
  expect(s.stages).toEqual(plan.stages);
});

test('the memo is compact, and rewritten at once while running but at most every 5 s while deploying', () => {
  const s = state().status;
  s.agents.back.lastError = 'x'.repeat(1000);
  const memo = statusMemo(s, 'T');
  expect(memo.agents.back.lastError).toHaveLength(301);
  expect(Object.keys(memo.agents.front)).toEqual(['state', 'url', 'restarts']);
  const changed = { ...memo, agents: { ...memo.agents, front: { ...memo.agents.front, state: 'restarting' as const } } };
  expect(memoDue(undefined, memo, 0)).toBe(true);
  expect(memoDue({ memo, atMs: 0 }, memo, 1)).toBe(false);
  expect(memoDue({ memo, atMs: 0 }, changed, 1)).toBe(true);
  const deploying = { ...changed, phase: 'deploying' as const };
  expect(memoDue({ memo: { ...memo, phase: 'deploying' }, atMs: 0 }, deploying, 1_000)).toBe(false);
  expect(memoDue({ memo: { ...memo, phase: 'deploying' }, atMs: 0 }, deploying, 5_000)).toBe(true);
  expect(memoDue({ memo: { ...memo, phase: 'deploying' }, atMs: 0 }, { ...deploying, paused: true }, 1)).toBe(true);
  // Counted in agent changes (since memo-by-changes): a tenth of the job, at least 10.
  expect([memoBulkChanges(5), memoBulkChanges(201), memoBulkChanges(5000)]).toEqual([10, 21, 500]);
  expect(memoDue({ memo: { ...memo, phase: 'deploying' }, atMs: 30 }, deploying, 50, 21)).toBe(false);
  expect(memoDue({ memo: { ...memo, phase: 'deploying' }, atMs: 30 }, deploying, 51, 21)).toBe(true);
});

describe('failure messages', () => {
  const agent = plan.agents.back;
  test("the runner's message and its stderr lines, from inside the activity failure", () => {
    const inner = ApplicationFailure.nonRetryable("agent 'back' exited during start (code 1)", 'AgentFailed', 'line 1\nline 2');
    const err = new ActivityFailure('Activity task failed', 'deployAgent', '1', RetryState.NON_RETRYABLE_FAILURE, 'w', inner);
    expect(failureMessage(agent, err)).toBe(
      "agent 'back' exited during start (code 1)\n--- last lines of back's stderr ---\nline 1\nline 2",
    );
    expect(failureMessage(agent, new Error('socket hang up'))).toBe("agent 'back': socket hang up");
  });

  test('no worker picking the work up in time names the worker to start', () => {
    const timeout = new TimeoutFailure('timed out', undefined, TimeoutType.SCHEDULE_TO_START);
    const err = new ActivityFailure('Activity task timed out', 'deployAgent', '1', RetryState.TIMEOUT, 'w', timeout);
    expect(failureMessage({ ...agent, deployment: { ...agent.deployment, worker: 'h1' }, taskQueue: 'a2a-deploy-host-h1' }, err)).toBe(
      "agent 'back': host h1's worker did not pick up the work within 120s (task queue a2a-deploy-host-h1); start it with `a2a-deploy worker --host h1`",
    );
  });
});
