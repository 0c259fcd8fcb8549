// The tables a run prints at its end (and `--report FILE` prints again for a recorded run).
import { f0, f1, fmt, say } from './format';
import { completed, type Results } from './results';
import type { Summary } from './stats';

const mm = (x: Pick<Summary, 'median' | 'max'> | undefined) => (x ? `${f0(x.median)} / ${f0(x.max)}` : '-');
// Queue and run of an activity are merged: the server stamps a retried activity's start late.
const merge = (q?: Summary, r?: Summary) => (q && r ? { median: q.median + r.median, max: q.max + r.max } : undefined);

export function report(results: Results): void {
  deployTable(results);
  historyTable(results);
  timeTables(results);
  containerTable(results);
  restartAndIdle(results);
  say('\n## Targets');
  for (const t of results.targetsEvaluated ?? [])
    say(`- ${t.status.startsWith('met') ? '✅' : t.status.startsWith('MISSED') ? '❌' : '➖'} ${t.target}: ${t.value} — ${t.status}`);
}

function deployTable(results: Results) {
  say('\n# Results: median (min–max) ms; overhead = a2a-deploy − floor');
  say(
    `agents start after DELAY_MS=${results.delayMs}; the harness sees "running" within ~10 ms; machine: ${results.machine.cpus} cores, shared with whatever else runs\n`,
  );
  say(
    '| scenario | agents | levels | floor deploy | a2a-deploy deploy | overhead | /level | /extra agent | floor teardown | a2a-deploy teardown |',
  );
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of results.scenarios) {
    if (!s.runs.length) {
      const p = s.partial;
      const why = `**FAILED**${p ? ` after ${f0(p.afterMs)} ms` : ''}: ${(s.error ?? '-').split('\n')[0]}`;
      say(
        `| ${s.name} | ${s.agents} | ${s.levels} | ${s.floor?.deploy ? fmt(s.floor.deploy) : '-'} | ${why} | | | | ${s.floor?.teardown ? fmt(s.floor.teardown) : '-'} | |`,
      );
      continue;
    }
    const o = s.overhead!;
    say(
      `| ${s.name} | ${s.agents} | ${s.levels} | ${fmt(s.floor.deploy)} | ${fmt(s.a2a.deploy)} | ${f0(o.deployMs)} | ${f0(o.perLevelMs)} | ${o.perExtraAgentMs === undefined ? '-' : f1(o.perExtraAgentMs)} | ${fmt(s.floor.teardown)} | ${fmt(s.a2a.teardown)} |`,
    );
  }
}

function historyTable(results: Results) {
  say(
    '\n| scenario | history events at running → end (per job) | runs per job | largest run: events / size | events/agent | history size at end (per job) | bytes/agent | largest payload | worker RSS after deploy | worker CPU deploy / teardown | server CPU deploy / teardown |',
  );
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of completed(results)) {
    const h = s.history;
    say(
      `| ${s.name} | ${f0(h.eventsAtRunning)} → ${f0(h.eventsAtEnd)} | ${f1(h.runsPerJob)} | ${f0(h.maxRunEvents)} / ${f0(h.maxRunBytes / 1024)} KiB | ${f1(h.eventsPerAgent)} | ${f0(h.bytesAtEnd / 1024)} KiB | ${f0(h.bytesPerAgent)} | ${f0((h.largestPayload?.bytes ?? 0) / 1024)} KiB (${h.largestPayload?.what ?? '-'}) | ${f0(s.worker.rssMiB)} MiB | ${f1(s.worker.cpuDeployS.median)} / ${f1(s.worker.cpuTeardownS.median)} s | ${f1(s.server.cpuDeployS.median)} / ${f1(s.server.cpuTeardownS.median)} s |`,
    );
  }
}

/** Where the deploy and the teardown time go, from the last run's workflow history. */
function timeTables(results: Results) {
  const done = completed(results);
  say('\n## Where the deploy time goes (last run, first job, from the workflow history; median / max ms per agent)');
  say(
    "reaction: callees healthy → its deployAgent (older: startAgent) scheduled; start: scheduled → agent spawned; between: startAgent done → waitHealthy scheduled (0 since deployAgent does both); check: the health wait (includes the agent's own start-up); poll gap: the health-poll interval before the successful check (up to that much is lost); WFT: workflow task pick-up / processing",
  );
  say('\n| scenario | reaction | start | between | check | poll gap | WFT pick-up | WFT run | workflow tasks |');
  say('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of done) {
    const a = s.runs[s.runs.length - 1].analysis;
    if (!a) continue;
    const st = a.steps;
    say(
      `| ${s.name} | ${mm(st.reaction)} | ${mm(merge(st.startQueue, st.startRun))} | ${mm(st.betweenActivities)} | ${mm(merge(st.checkQueue, st.checkRun))} | ${mm(st.healthPollGap)} | ${mm(a.workflowTasks.queueMs)} | ${mm(a.workflowTasks.runMs)} | ${a.workflowTasks.count} |`,
    );
  }
  say(
    '\n## Where the teardown time goes (last run, first job): stop accepted → first stopAgent(s) scheduled; stopAgent(s) (a batch of the agents of a level since batched stops) scheduled → completed (median / max); last stop → workflow end',
  );
  say('\n| scenario | accepted → first stop | stopAgent(s) | last stop → end | accepted → end |');
  say('|---|---:|---:|---:|---:|');
  for (const s of done) {
    const t = s.runs[s.runs.length - 1].analysis?.teardown;
    if (t)
      say(`| ${s.name} | ${f0(t.acceptedToFirstStopMs)} | ${mm(t.stopActivityMs)} | ${f0(t.lastStopToEndMs)} | ${f0(t.acceptedToEndMs)} |`);
  }
}

function containerTable(results: Results) {
  const c = results.containers;
  if (!c) return;
  say('\n## Containers: a2a-deploy container target vs docker-compose (same image)');
  if (c.skipped) return say(`skipped: ${c.skipped}`);
  say('| scenario | docker-compose deploy | a2a-deploy deploy | docker-compose teardown | a2a-deploy teardown |');
  say('|---|---:|---:|---:|---:|');
  for (const s of c.scenarios ?? [])
    say(
      s.a2a
        ? `| ${s.name} | ${fmt(s.compose?.deploy)} | ${fmt(s.a2a.deploy)} | ${fmt(s.compose?.teardown)} | ${fmt(s.a2a.teardown)} |`
        : `| ${s.name} | failed: ${s.error} | | | |`,
    );
}

function restartAndIdle(results: Results) {
  const w = results.workerRestart;
  if (w && !w.error) {
    say('\n## Worker SIGKILL + restart during a deploy (pipeline-5)');
    say(
      `worker back polling: ${fmt(w.workerRestartMs)} ms; kill → next agent started: ${fmt(w.killToProgressMs)} ms (undisturbed: ${fmt(w.undisturbedMs)} ms); stall added: ${fmt(w.stallAddedMs)} ms; whole deploy longer by ${fmt(w.deployAddedMs)} ms`,
    );
    const a = w.runs.find((r) => r.analysis)?.analysis;
    if (a) {
      say(
        `history of a killed run: timed out: ${a.timedOut.join(', ') || 'none'}; retried: ${a.retriedActivities.join(', ') || 'none'}; slowest workflow-task pick-up ${f0(a.slowestWorkflowTaskPickupMs)} ms; events from the kill on:`,
      );
      for (const l of a.timeline) say(`    ${l}`);
    }
  } else if (w?.error) say(`\nworker-restart failed: ${w.error}`);
  for (const s of completed(results)) {
    const i = s.idle;
    if (!i) continue;
    say(
      `\n## Idle watching (${s.name}, ${s.agents} agents, ${i.seconds} s): history ${i.eventsBefore} → ${i.eventsAfter} events (+${i.eventsAdded}); worker ${f1(i.workerCpuPct)}% CPU, server ${f1(i.serverCpuPct)}% CPU, worker RSS ${f0(i.workerRssMiB)} MiB; agent restarts so far ${i.agentRestarts}`,
    );
    if (i.eventsAdded) {
      say(
        `  added: ${Object.entries(i.addedByType)
          .map(([k, v]) => `${k} ×${v}`)
          .join(', ')}`,
      );
      for (const [why, n] of Object.entries(i.failures)) say(`  ${n}× ${why}`);
    }
  }
  if (results.worker)
    say(
      `worker memory at the end: RSS ${f0(results.worker.rssMiB)} MiB, peak ${f0(results.worker.hwmMiB)} MiB (pid ${results.worker.pid}; the worker-restart step replaces the worker)`,
    );
}
