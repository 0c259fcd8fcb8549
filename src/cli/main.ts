// a2a-deploy: one entry point, one file per command under ./commands.
import { CliError, EXIT } from './exit-codes';

type Command = { usage: string; summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

// Commands are loaded lazily so `validate` never pays for loading the Temporal SDK.
const COMMANDS: Record<string, Command> = {
  validate: {
    usage: 'validate FILE...',
    summary: 'check job files; every error with FILE:LINE:COL',
    load: () => import('./commands/validate'),
  },
  plan: { usage: 'plan FILE', summary: 'show stages, URLs and calls (--json, --format mermaid)', load: () => import('./commands/plan') },
  start: {
    usage: 'start FILE',
    summary: 'deploy a job and show progress until healthy (--detach, --json)',
    load: () => import('./commands/start'),
  },
  status: { usage: 'status JOB', summary: 'phase and per-agent state (--json)', load: () => import('./commands/status') },
  list: { usage: 'list', summary: 'running jobs (--all, --phase PHASE, --json)', load: () => import('./commands/list') },
  send: { usage: 'send JOB MESSAGE', summary: "send an A2A message to the job's entry agent", load: () => import('./commands/send') },
  logs: { usage: 'logs JOB [AGENT]', summary: 'agent output (--tail N, --follow)', load: () => import('./commands/logs') },
  pause: { usage: 'pause JOB', summary: 'start nothing new and suspend restarts', load: () => import('./commands/pause') },
  resume: { usage: 'resume JOB', summary: 'undo pause', load: () => import('./commands/resume') },
  restart: { usage: 'restart JOB [AGENT...]', summary: 'restart agents (default all)', load: () => import('./commands/restart') },
  diff: {
    usage: 'diff FILE',
    summary: 'what `start FILE` would change in the running job (--json)',
    load: () => import('./commands/diff'),
  },
  gc: { usage: 'gc', summary: 'remove agents on this machine whose job is gone (--dry-run, --json)', load: () => import('./commands/gc') },
  stop: { usage: 'stop JOB', summary: 'tear a job down, callers first (--force)', load: () => import('./commands/stop') },
  server: { usage: 'server', summary: 'run the embedded Temporal dev server (--detach, --stop)', load: () => import('./commands/server') },
  worker: { usage: 'worker', summary: 'run a worker in the foreground (--detach, --stop)', load: () => import('./commands/worker') },
};

export function usageText(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    'usage: a2a-deploy COMMAND [options]',
    '',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 done, 1 the job failed, 2 invalid input, 3 Temporal unreachable.',
  ].join('\n');
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usageText() + '\n');
    return name ? EXIT.ok : EXIT.invalidInput;
  }
  const command = COMMANDS[name];
  if (!command) {
    const { didYouMean } = await import('../job/diagnostics');
    throw new CliError(`unknown command '${name}'`, EXIT.invalidInput, didYouMean(name, Object.keys(COMMANDS)) ?? 'run a2a-deploy --help');
  }
  return (await command.load()).run(rest);
}

export function main(argv: string[]): void {
  runCli(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof CliError) {
        if (err.message) process.stderr.write(`a2a-deploy: ${err.message}\n`);
        if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`a2a-deploy: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
        process.exitCode = EXIT.jobFailed;
      }
    },
  );
}
