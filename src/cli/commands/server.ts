import { spawn } from 'node:child_process';
import { homeDir } from '../../config/paths';
import { devServerArgs, startDevServerDetached, stopDevServer, temporalBinary } from '../../temporal/dev-server';
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
  if (values.detach) {
    const s = await startDevServerDetached({ stateDir });
    process.stdout.write(`Temporal dev server at ${s.address}, Web UI ${s.uiUrl} (pid ${s.pid}, log ${s.logFile}).\n`);
    return EXIT.ok;
  }
  process.stdout.write(`Temporal dev server in the foreground (state in ${stateDir}); Web UI http://127.0.0.1:8233. Ctrl-C stops it.\n`);
  const child = spawn(temporalBinary(), devServerArgs({ stateDir }), { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? EXIT.ok)));
}
