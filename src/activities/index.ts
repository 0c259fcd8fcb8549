// The activities a worker registers. One runner per target; the local runner for now.
import { localRunner } from './local-runner';

export const activities = {
  startAgent: localRunner.startAgent,
  waitHealthy: localRunner.waitHealthy,
  stopAgent: localRunner.stopAgent,
  watchAgents: localRunner.watchAgents,
};

export type Activities = typeof activities;
