// a2a-deploy codec-server: Temporal's remote codec endpoint, so the Web UI shows this
// machine's encrypted payloads in clear (to a browser on an allowed origin, with the token).
import { homeDir } from '../../config/paths';
import { EncryptionCodec } from '../../temporal/codec';
import { allowedHosts, createCodecServer } from '../../temporal/codec-http';
import { keyRingFor } from '../../temporal/codec-keys';
import { temporalConfig } from '../../temporal/connection';
import { parse } from '../args';
import { CliError, EXIT } from '../exit-codes';

/** The embedded dev server's Web UI calls the codec server at its own port + 1 (dev-server.ts). */
export const DEFAULT_CODEC_PORT = 8234;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, 'codec-server');
  const port = values.port ?? DEFAULT_CODEC_PORT;
  const cfg = temporalConfig();
  const keys = keyRingFor(cfg);
  if (!keys) {
    throw new CliError(
      'no payload keys: nothing to decode',
      EXIT.invalidInput,
      `set A2A_DEPLOY_KEY_FILE (a server elsewhere), or use the embedded mode, whose key lives in ${homeDir()}`,
    );
  }
  const origins = values.origin ?? [cfg.uiUrl];
  const token = process.env.A2A_DEPLOY_CODEC_TOKEN || undefined;
  const host = values.host ?? '127.0.0.1';
  const server = createCodecServer({
    codec: new EncryptionCodec(keys),
    origins,
    ...(token ? { token } : {}),
    // A wildcard bind answers any address of the machine: no single Host to hold it to.
    ...(host === '0.0.0.0' || host === '::' ? {} : { hosts: allowedHosts(host, port) }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new CliError(`port ${port} is in use`, EXIT.invalidInput, 'is a codec server already running? or pass --port')
          : err,
      ),
    );
    server.listen(port, host, resolve);
  });
  process.stdout.write(
    `Codec server on http://${host.includes(':') ? `[${host}]` : host}:${port} (keys from ${keys.source}, newest '${keys.current.id}'; origins ${origins.join(', ')}${token ? '; bearer token required' : ''}). Ctrl-C stops it.\n`,
  );
  await new Promise<void>((resolve) => {
    // close() alone waits for keep-alive connections, and an open Web UI tab holds one: the
    // server would go on decoding after Ctrl-C. Idle ones close now, busy ones after a second.
    const stop = () => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return EXIT.ok;
}
