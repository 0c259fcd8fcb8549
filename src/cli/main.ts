// a2a-deploy: one entry point, one file per command under ./commands.
import { globalHelp, shown } from './args';
import { A2ADeployError } from '../api/errors';
import { CliError, EXIT, exitCodeFor } from './exit-codes';
import { guardTerminalOutput } from './terminal';
import type { CommandName } from './specs';

type Loader = () => Promise<{ run(argv: string[]): Promise<number> }>;

// Commands are loaded lazily so `validate` never pays for loading the Temporal SDK. What each
// takes and does is declared in ./specs; a command listed here must have a spec there.
const COMMANDS: Record<CommandName, Loader> = {
  validate: () => import('./commands/validate'),
  plan: () => import('./commands/plan'),
  start: () => import('./commands/start'),
  status: () => import('./commands/status'),
  list: () => import('./commands/list'),
  send: () => import('./commands/send'),
  logs: () => import('./commands/logs'),
  pause: () => import('./commands/pause'),
  resume: () => import('./commands/resume'),
  restart: () => import('./commands/restart'),
  diff: () => import('./commands/diff'),
  delete: () => import('./commands/delete'),
  prune: () => import('./commands/prune'),
  gc: () => import('./commands/gc'),
  stop: () => import('./commands/stop'),
  server: () => import('./commands/server'),
  worker: () => import('./commands/worker'),
  'codec-server': () => import('./commands/codec-server'),
};

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0] && isCommand(rest[0])) return (await COMMANDS[rest[0]]()).run(['--help']);
    process.stdout.write(globalHelp() + '\n');
    return name ? EXIT.ok : EXIT.invalidInput;
  }
  if (!isCommand(name)) {
    const { didYouMean } = await import('../job/diagnostics');
    const guess = name.length <= 64 ? didYouMean(name, Object.keys(COMMANDS)) : undefined;
    throw new CliError(`unknown command ${shown(name)}`, EXIT.invalidInput, guess ?? 'run a2a-deploy --help');
  }
  return (await COMMANDS[name]()).run(rest);
}

const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

export function main(argv: string[]): void {
  endQuietlyWhenOutputCloses();
  guardTerminalOutput();
  runCli(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const known = asCliError(err);
      if (known) {
        if (known.message) process.stderr.write(`a2a-deploy: ${known.message}\n`);
        if (known.hint) process.stderr.write(`  hint: ${known.hint}\n`);
        process.exitCode = known.exitCode;
      } else {
        // A stack trace helps a developer, not a user; it is one variable away.
        const debug = process.env.A2A_DEPLOY_DEBUG === '1';
        const text = debug ? ((err as Error)?.stack ?? String(err)) : errorMessage(err);
        process.stderr.write(`a2a-deploy: unexpected error: ${text}\n`);
        if (!debug) process.stderr.write('  hint: A2A_DEPLOY_DEBUG=1 shows where it came from\n');
        process.exitCode = EXIT.jobFailed;
      }
    },
  );
}

/** The errors a user can act on, whichever module raised them. */
function asCliError(err: unknown): CliError | undefined {
  if (err instanceof CliError) return err;
  const code = exitCodeFor(err);
  if (code !== undefined) return new CliError((err as A2ADeployError).message, code, (err as A2ADeployError).hint);
  const e = err as { name?: string } | undefined;
  // gRPC UNAVAILABLE in the middle of a command: the server went away.
  if (e?.name === 'ServiceError' && (e as { cause?: { code?: number } }).cause?.code === 14)
    return new CliError(
      `lost the connection to Temporal: ${errorMessage(err)}`,
      EXIT.temporalUnreachable,
      'is the Temporal server still running?',
    );
  return undefined;
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0] : String(err));

/**
 * `a2a-deploy … | head` closes our stdout early: stop then, with no EPIPE stack trace. What the
 * command had set in motion (a deploy, a stop) goes on in Temporal regardless.
 */
function endQuietlyWhenOutputCloses() {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(process.exitCode ?? EXIT.ok);
      throw err;
    });
  }
}
