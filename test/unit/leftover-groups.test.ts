// gc and the collection loop remove the cgroups of agents whose job is gone, and only those:
// a running job's groups stay, and another server's are never listed (machine-agents asks by server).
import type { Client } from '@temporalio/client';
import { collectLeftovers, describeLeftover, type MachineAgents } from '../../src/jobs/leftovers';

const client = (status: Record<string, string>) =>
  ({
    workflow: { getHandle: (id: string) => ({ describe: async () => ({ status: { name: status[id.replace(/^a2a-job-/, '')] } }) }) },
  }) as unknown as Client;

function machine(groups: { job: string; agent: string }[], processes: { pid: number; marker: string; server?: string }[] = []) {
  const removedGroups: string[] = [];
  const m: MachineAgents = {
    containers: async () => [],
    removeContainer: async () => undefined,
    processes: () => processes,
    groups: (server) => (server === 'srv' ? groups : []),
    removeGroups: async (_s, job, agent) => removedGroups.push(`${job}/${agent}`),
  };
  return { m, removedGroups };
}

test("the groups of a terminated job's agents go; a running job's stay", async () => {
  const { m, removedGroups } = machine([
    { job: 'gone', agent: 'hog' },
    { job: 'live', agent: 'web' },
  ]);
  const out = await collectLeftovers({ client: client({ gone: 'TERMINATED', live: 'RUNNING' }), server: 'srv', machine: m });
  expect(removedGroups).toEqual(['gone/hog']);
  expect(out.removed.map((r) => describeLeftover(r, 'removed'))).toEqual([
    "removed gone/hog (its cgroups): its job's workflow is terminated",
  ]);
});

test('a dry run removes nothing; another server sees no groups at all', async () => {
  const { m, removedGroups } = machine([{ job: 'gone', agent: 'hog' }]);
  const dry = await collectLeftovers({ client: client({ gone: 'TERMINATED' }), server: 'srv', machine: m, dryRun: true });
  expect(dry.removed).toHaveLength(1);
  expect(removedGroups).toEqual([]);
  const other = await collectLeftovers({ client: client({ gone: 'TERMINATED' }), server: 'other', machine: m });
  expect(other.removed).toEqual([]);
});
