// Job networks: user-defined bridge networks (created on first use, labelled with the job)
// where agents reach each other by container name; removed when their last agent stops.
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { AgentPlan } from '../../job/plan';
import { rethrow, statusOf } from './engine';
import { LABEL_JOB } from './labels';

export const isHostNetwork = (agent: AgentPlan) => !agent.deployment.network || agent.deployment.network === 'host';

export function checkNetworkName(agent: AgentPlan, network: string) {
  // Docker's built-in networks have no name resolution between containers (or no network at
  // all), so peers could never reach the agent at its plan URL http://<container name>:port.
  if (network === 'bridge' || network === 'none' || network === 'default') {
    throw ApplicationFailure.nonRetryable(
      `agent '${agent.id}': network '${network}' is one of Docker's built-in networks, where agents cannot reach each other by name; ` +
        `use 'host' or name a job network (e.g. network: ${'<job>'}-net)`,
      'AgentSpecError',
    );
  }
}

/** The job networks of one engine. */
export class JobNetworks {
  /** Creations in flight in this worker, so parallel starts of one job create its network once. */
  private readonly creating = new Map<string, Promise<void>>();

  constructor(private readonly docker: Docker) {}

  async ensure(job: string, network: string): Promise<void> {
    const pending = this.creating.get(network);
    if (pending) return pending;
    const p = (async () => {
      try {
        await this.docker.getNetwork(network).inspect();
        return;
      } catch (e) {
        if (statusOf(e) !== 404) rethrow(e, `inspecting network ${network}`);
      }
      try {
        await this.docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABEL_JOB]: job } });
      } catch (e) {
        if (statusOf(e) !== 409) rethrow(e, `creating network ${network}`); // 409: another worker made it first
      }
    })();
    this.creating.set(network, p);
    try {
      await p;
    } finally {
      this.creating.delete(network);
    }
  }

  /** Removes a job network we created once no container uses it (best effort). */
  async release(job: string, network: string): Promise<void> {
    try {
      const net = this.docker.getNetwork(network);
      const info = (await net.inspect()) as { Labels?: Record<string, string>; Containers?: Record<string, unknown> };
      if (info.Labels?.[LABEL_JOB] !== job || Object.keys(info.Containers ?? {}).length > 0) return;
      await net.remove();
    } catch {
      /* gone already, in use again, or not ours: all fine */
    }
  }
}
