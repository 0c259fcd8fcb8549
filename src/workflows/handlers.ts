// The deploy workflow's queries, updates and signals, wired to the pure decisions: each update's
// validator refuses with the reason decisions.ts gives; each signal does what its update does,
// and when it makes no sense in the job's state the status records it (`refused`) instead of
// dropping it. Handlers only change state; the main loop (deploy-job.ts) acts on it.
import { patched, setHandler } from '@temporalio/workflow';
import {
  pauseSignal,
  pauseUpdate,
  planQuery,
  redeployUpdate,
  restartUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
  stopSignal,
  stopUpdate,
  type RedeployResult,
  type RestartResult,
  type StopRequest,
} from './api';
import { refusePause, refuseRedeploy, refuseRestart, refuseResume, refuseStop, restartTargets, type JobState } from './decisions';

// Since this patch a stop update without a payload (as the Web UI sends it) is a graceful stop;
// before, it was accepted and did nothing.
const STOP_WITHOUT_PAYLOAD = 'stop-without-payload';

export interface HandlerHooks {
  /** the status changed: the Web UI's description (and memo) are refreshed */
  changed(): void;
  setPaused(paused: boolean): void;
  now(): string;
}

const refuseWith = (reason: string | undefined) => {
  if (reason) throw new Error(reason);
};

export function registerHandlers(job: JobState, hooks: HandlerHooks): void {
  // The Web UI lists queries in the order they are registered: the status first.
  setHandler(statusQuery, () => job.status, {
    description: 'The job: its phase, whether paused, and per agent its state, pid, URL, restarts and last error.',
  });
  setHandler(planQuery, () => job.plan, { description: 'The deploy plan the job runs now (after any redeploys): stages and agent specs.' });

  const stop = (req: StopRequest | undefined) => {
    job.stopRequest = req ?? (patched(STOP_WITHOUT_PAYLOAD) ? {} : undefined);
    return job.status.phase;
  };
  const pause = (paused: boolean) => {
    hooks.setPaused(paused);
    return job.status.phase;
  };

  setHandler(stopUpdate, stop, {
    validator: (_req) => refuseWith(refuseStop(job)),
    description:
      'Tear the job down, callers before callees. No input: graceful (SIGTERM, stop_grace, then SIGKILL); {"force": true}: kill at once.',
  });
  setHandler(pauseUpdate, () => pause(true), {
    validator: () => refuseWith(refusePause(job)),
    description: 'Start nothing new and suspend restarts; agents already starting finish. No input.',
  });
  setHandler(resumeUpdate, () => pause(false), {
    validator: () => refuseWith(refuseResume(job)),
    description: 'Undo pause: deploying and restarting go on. No input.',
  });
  setHandler(
    restartUpdate,
    (req) => new Promise<RestartResult>((done) => (job.pendingRestart = { ids: restartTargets(job.plan, req), done })),
    {
      validator: (req) => refuseWith(refuseRestart(job, req)),
      description:
        'Restart agents through the health gate, callees first; completes when they are back. Input {"agents": ["id", ...]}, or none for every agent.',
    },
  );
  setHandler(redeployUpdate, async (next) => new Promise<RedeployResult>((done) => (job.pendingRedeploy = { plan: next, done })), {
    validator: (next) => refuseWith(refuseRedeploy(job, next)),
    description: 'Apply a changed plan (sent by `a2a-deploy start FILE`): a rolling redeploy, rolled back if it fails.',
  });

  // Signals: the same effects; a refusal is kept in the status with its reason and time.
  const signalled = (action: string, reason: string | undefined, act: () => unknown) => {
    if (reason) {
      job.status.refused = { action: `${action} signal`, reason, at: hooks.now() };
      hooks.changed();
      return;
    }
    act();
  };
  setHandler(stopSignal, (req) => signalled('stop', refuseStop(job), () => (job.stopRequest = { force: req?.force === true })), {
    description: 'As the stop update, for senders that do not wait: no input for graceful, {"force": true} to kill at once.',
  });
  setHandler(pauseSignal, () => signalled('pause', refusePause(job), () => pause(true)), {
    description: 'As the pause update. No input. If it makes no sense now, the status says why (refused).',
  });
  setHandler(resumeSignal, () => signalled('resume', refuseResume(job), () => pause(false)), {
    description: 'As the resume update. No input. If it makes no sense now, the status says why (refused).',
  });
}
