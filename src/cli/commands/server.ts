import { spawn } from 'node:child_process';
import { homeDir } from '../../config/paths';
import {
  devServerArgs,
  embeddedRetentionMs,
  formatRetention,
  startDevServerDetached,
  stopDevServer,
  temporalBinary,
  waitUntilReady,
} from '../../temporal/dev-server';
import { parse } from '../args';
import { EXIT } from '../exit-codes';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'server');
  const stateDir = homeDir();
  if (values.stop) {
    process.stdout.write(
      (await stopDevServer(stateDir)) ? 'Embedded Temporal server stopped.\n' : 'No embedded Temporal server was running.\n',
    );
    return EXIT.ok;
  }
  // Checked (and said) before anything starts: a bad A2A_DEPLOY_RETENTION is exit 2.
  const retentionMs = embeddedRetentionMs();
  if (values.detach) {
    const s = await startDevServerDetached({ stateDir, retentionMs });
    process.stdout.write(
      `Temporal dev server at ${s.address}, Web UI ${s.uiUrl} (pid ${s.pid}, log ${s.logFile}).\n${retentionLine(retentionMs)}\n`,
    );
    return EXIT.ok;
  }
  process.stdout.write(
    `Temporal dev server in the foreground (state in ${stateDir}); Web UI http://127.0.0.1:8233. Ctrl-C stops it.\n${retentionLine(retentionMs)}\n`,
  );
  const child = spawn(temporalBinary(), devServerArgs({ stateDir, retentionMs }), { stdio: 'inherit' });
  let exited: string | undefined;
  const done = new Promise<number>((resolve) =>
    child.on('exit', (code) => {
      exited = `exited (code ${code})`;
      resolve(code ?? EXIT.ok);
    }),
  );
  // start-dev sets no retention (nor adds search attributes to an older database): once it
  // answers, the namespace is prepared as a detached server's is.
  waitUntilReady({ namespace: 'default', retentionMs }, '127.0.0.1:7233', 'the output above', 60_000, () => exited).catch((err: Error) =>
    process.stderr.write(`a2a-deploy: warning: could not prepare the namespace: ${err.message.split('\n')[0]}\n`),
  );
  return done;
}

/** What `server` says about retention: how long finished jobs stay, and what changes it. */
export const retentionLine = (ms: number) =>
  `Finished jobs are kept ${formatRetention(ms)} (A2A_DEPLOY_RETENTION), then removed by the server; \`a2a-deploy delete JOB\` and \`prune\` remove them sooner.`;
