// The truth about a job is first its workflow execution's status, then the phase the workflow
// recorded. A run that was terminated (the Web UI's Terminate, `temporal workflow terminate`) or
// timed out ended without its teardown: its agents may still run, and its last recorded phase
// ("running") is no longer true. Shared by status, list, stop and the collection of leftovers.

/** Execution statuses of a run that is over (the names the SDK gives them). */
export const ENDED_STATUSES = ['COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT'] as const;

/**
 * Whether the current run is over. Anything else (RUNNING, and any status a newer server may
 * add, such as a paused workflow) counts as live: leftovers are collected only for a run that is
 * known to be over, never on a guess.
 */
export const hasEnded = (execution: string): boolean => (ENDED_STATUSES as readonly string[]).includes(execution);

/**
 * Whether the run ended without running its teardown, so its agents may be left running:
 * terminated or timed out always; failed or canceled when the workflow had not recorded the end
 * of its teardown (a deploy failure and a cancel both tear down before the run ends).
 */
export function teardownSkipped(execution: string, lastPhase?: string): boolean {
  if (execution === 'TERMINATED' || execution === 'TIMED_OUT') return true;
  if (execution === 'FAILED' || execution === 'CANCELED') return lastPhase !== 'stopped' && lastPhase !== 'failed';
  return false;
}

/** 'TIMED_OUT' -> 'timed-out': how the execution status reads in a table and in `phase`. */
export const executionWord = (execution: string) => execution.toLowerCase().replace(/_/g, '-');

/**
 * The phase to show: the workflow's own while its run is live or ended properly; the execution
 * status when the run ended without teardown (a terminated job is never shown as "running").
 */
export function shownPhase(execution: string, lastPhase: string | undefined): string {
  if (teardownSkipped(execution, lastPhase)) return executionWord(execution);
  return lastPhase ?? (hasEnded(execution) ? executionWord(execution) : 'unknown');
}

/** Default period of the workers' collection of leftover agents (README, "Terminate"). */
export const DEFAULT_COLLECT_EVERY_MS = 30_000;

/** What is left running and how it goes away, said in one line. */
export function leftoverNote(job: string, execution: string, agents: number): string {
  const what =
    agents > 0 ? `its ${agents} agent${agents === 1 ? '' : 's'} may still be running` : 'agents it had started may still be running';
  return (
    `The workflow of job ${job} was ${executionWord(execution).replace('-', ' ')} without its teardown: ${what}. ` +
    `Every worker removes them on its own machine within a minute by default (worker --collect-every), ` +
    `or run \`a2a-deploy gc\` on each machine that ran them; \`a2a-deploy start FILE\` instead adopts those still healthy.`
  );
}
