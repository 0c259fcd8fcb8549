// Issue 23, item 11 (slots): an agent whose start waits in Temporal's queue behind a worker whose
// activity slots are all taken is told so, with how long and the setting that bounds it; a start
// being picked up, running, or waiting out a retry's backoff is not.
import { noteSlotWaits, slotWaitNotes, type PendingActivity } from '../../src/api/slot-waits';
import type { AgentStatus, JobStatus } from '../../src/workflows/api';

const NOW = Date.parse('2026-12-08T00:30:00Z');
const at = (msAgo: number) => ({ seconds: Math.floor((NOW - msAgo) / 1000), nanos: 0 });
const agent = (id: string, state: AgentStatus['state'], extra: Partial<AgentStatus> = {}): AgentStatus => ({
  id,
  stage: 0,
  target: 'localhost',
  state,
  url: `http://127.0.0.1/${id}`,
  since: new Date(NOW - 60_000).toISOString(),
  restarts: 0,
  ...extra,
});
const job = (...agents: AgentStatus[]): JobStatus => ({
  job: 'third',
  topology: 'mesh',
  phase: 'deploying',
  paused: false,
  entry: agents[0].id,
  stages: [agents.map((a) => a.id)],
  agents: Object.fromEntries(agents.map((a) => [a.id, a])),
});
const queued = (msAgo: number, extra: Partial<PendingActivity> = {}): PendingActivity => ({
  activityType: { name: 'deployAgent' },
  state: 1,
  scheduledTime: at(msAgo),
  activityOptions: { taskQueue: { name: 'a2a-deploy' } },
  ...extra,
});
const mainQueue = () => 'a2a-deploy';

test('every starting agent whose start is queued for a slot is told how long, on which queue, and why', () => {
  const notes = slotWaitNotes(job(agent('a', 'starting'), agent('b', 'starting')), [queued(62_000), queued(61_000)], mainQueue, NOW);
  expect([...notes.keys()]).toEqual(['a', 'b']);
  expect(notes.get('a')).toBe(
    "queued 62 s for a free activity slot: the workers of task queue a2a-deploy run as many activities as they may (A2A_DEPLOY_MAX_ACTIVITIES; each running job's watch holds one); it starts when one frees",
  );
});

test('fewer queued starts than starting agents: the note says how many of them wait', () => {
  const notes = slotWaitNotes(job(agent('a', 'starting'), agent('b', 'starting'), agent('c', 'healthy')), [queued(9000)], mainQueue, NOW);
  expect([...notes.keys()]).toEqual(['a', 'b']);
  expect(notes.get('b')).toMatch(/^1 of these 2 starting agents queued 9 s for a free activity slot/);
});

test('no note for a start just scheduled, one running, a watch, or an agent already waiting for its host', () => {
  const status = job(agent('a', 'starting'), agent('h', 'starting', { waitingFor: "waiting for host h9's worker" }));
  const none = (pending: PendingActivity[]) => [...slotWaitNotes(status, pending, mainQueue, NOW).keys()];
  expect(none([queued(2000)])).toEqual([]); // being picked up
  expect(none([queued(30_000, { state: 2, lastStartedTime: at(29_000) })])).toEqual([]); // started: booting
  expect(none([queued(30_000, { activityType: { name: 'watchAgents' } })])).toEqual([]);
  expect(none([queued(30_000, { nextAttemptScheduleTime: at(-3000) })])).toEqual([]); // a retry in its backoff
  expect(none([queued(30_000, { nextAttemptScheduleTime: at(2000) })])).toEqual([]); // ... just due
  expect(none([queued(30_000, { activityOptions: { taskQueue: { name: 'a2a-deploy-host-h9' } } })])).toEqual([]); // another queue
  expect(none([queued(30_000)])).toEqual(['a']);
});

test('noteSlotWaits marks the status (as status and start show it), asking the server only when an agent starts', async () => {
  let describes = 0;
  const handle = {
    describe: async () => (describes++, { raw: { pendingActivities: [queued(15_000)] } }) as never,
  };
  const running = job(agent('a', 'healthy'));
  await noteSlotWaits(handle, running, async () => mainQueue, NOW);
  expect(describes).toBe(0);
  const starting = job(agent('a', 'starting'));
  await noteSlotWaits(handle, starting, async () => mainQueue, NOW);
  expect(describes).toBe(1);
  expect(starting.agents.a.waitingFor).toMatch(/^queued 15 s for a free activity slot/);
});
