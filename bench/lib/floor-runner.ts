// Runs the floor (bench/floor.ts) for some job files in a process of its own, so the harness's
// own polling and memory do not slow it down.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Timing } from './results';

let current: ChildProcess | undefined; // the floor process under way, for an interrupt to end

/** The floor's deploy and teardown times for these files (deployed at once). */
export function runFloor(files: string[], env: NodeJS.ProcessEnv): Promise<Timing & { agents: number }> {
  const bench = join(__dirname, '..');
  return new Promise((done, fail) => {
    const child = (current = spawn(process.execPath, ['-r', join(bench, 'register.js'), join(bench, 'floor.ts'), ...files], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? done(JSON.parse(out)) : fail(new Error(`floor failed: ${err.slice(-2000)}`))));
  });
}

/** Ends the floor under way, if any, and resolves once it is gone: it starts nothing more. */
export async function killFloor(): Promise<void> {
  const child = current;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
