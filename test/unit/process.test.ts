// The process toolkit on real processes of this user: TERM → grace → KILL, group signals,
// liveness (a zombie is not alive), and the /proc marker scan.
import { spawn } from 'node:child_process';
import { isAlive, procStat, scanProcesses, terminateProcess, terminateWithGrace, waitGone, type StopSignal } from '../../src/process';

/** A detached sh (its own process group) that ignores TERM or not, with a marker in its environment. */
function child(opts: { ignoreTerm: boolean; marker: string }) {
  const script = `${opts.ignoreTerm ? "trap '' TERM; " : ''}sleep 30 & wait; sleep 30`;
  const c = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore', env: { ...process.env, UNIT_MARKER: opts.marker } });
  c.unref();
  return c.pid!;
}

test('a process that obeys SIGTERM stops within the grace period, not forced', async () => {
  const pid = child({ ignoreTerm: false, marker: `obeys-${process.pid}` });
  await new Promise((r) => setTimeout(r, 100));
  expect(isAlive(pid)).toBe(true);
  expect(procStat(pid)?.pgrp).toBe(pid);
  expect(await terminateProcess(pid, { graceMs: 5000 })).toEqual({ forced: false, gone: true });
  expect(isAlive(pid)).toBe(false);
});

test('one that ignores SIGTERM is killed after the grace period, with its group', async () => {
  const marker = `ignores-${process.pid}`;
  const pid = child({ ignoreTerm: true, marker });
  await new Promise((r) => setTimeout(r, 100));
  // The leader and its child `sleep` carry the marker; only the leader leads a group.
  expect(scanProcesses((env) => env.UNIT_MARKER === marker).length).toBe(2);
  expect(scanProcesses((env) => env.UNIT_MARKER === marker, { leadersOnly: true }).map((p) => p.pid)).toEqual([pid]);
  const t0 = Date.now();
  expect(await terminateProcess(pid, { graceMs: 300 })).toEqual({ forced: true, gone: true });
  expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  expect(await waitGone(pid, 1000)).toBe(true);
  // The group went with it.
  for (let i = 0; i < 100 && scanProcesses((env) => env.UNIT_MARKER === marker).length > 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(scanProcesses((env) => env.UNIT_MARKER === marker)).toEqual([]);
});

test('terminateWithGrace: forced skips TERM; a first signal already sent is not sent again', async () => {
  const sent: StopSignal[] = [];
  const target = (goneAfter: StopSignal | 'never') => ({
    signal: (s: StopSignal) => void sent.push(s),
    waitGone: async () => goneAfter !== 'never' && sent.includes(goneAfter),
  });
  expect(await terminateWithGrace(target('SIGKILL'), { graceMs: 1, force: true })).toEqual({ forced: true, gone: true });
  expect(sent.splice(0)).toEqual(['SIGKILL']);
  expect(await terminateWithGrace(target('SIGTERM'), { graceMs: 1, firstSignalSent: true })).toEqual({ forced: true, gone: false });
  expect(sent.splice(0)).toEqual(['SIGKILL']);
  expect(await terminateWithGrace(target('never'), { graceMs: 1, force: true, firstSignalSent: true })).toEqual({
    forced: true,
    gone: false,
  });
  expect(sent.splice(0)).toEqual([]);
});
