// The keys the payload codec encrypts with. A key file holds one key per line,
// `KEY_ID BASE64_KEY` (32 bytes, AES-256), '#' comments allowed; the LAST key encrypts and
// every key decrypts, so a key rotates by appending a new line and keeping the old ones until
// no history needs them. A2A_DEPLOY_KEY_FILE names the file; in the embedded mode (no
// TEMPORAL_ADDRESS) a key is generated under A2A_DEPLOY_HOME on first use, so encryption is on
// by default on a single machine.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../common/errors';
import { homeDir } from '../config/paths';

export interface CodecKey {
  id: string;
  key: Buffer;
}

export interface KeyRing {
  /** the key new payloads are encrypted with (the file's last) */
  current: CodecKey;
  /** every key, by id, for decryption */
  byId: ReadonlyMap<string, Buffer>;
  /** where the keys came from, for messages */
  source: string;
}

export const KEY_FILE_NAME = 'codec.keys';
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class KeyFileError extends Error {}

export function parseKeyFile(source: string, text: string): KeyRing {
  const keys: CodecKey[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [id, b64, ...rest] = line.split(/\s+/);
    const where = `${source}:${i + 1}`;
    if (!KEY_ID.test(id) || !b64 || rest.length > 0) throw new KeyFileError(`${where}: expected 'KEY_ID BASE64_KEY'`);
    // Buffer.from skips characters that are not base64: a damaged key would pass unnoticed.
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new KeyFileError(`${where}: key '${id}' is not valid base64`);
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32)
      throw new KeyFileError(`${where}: key '${id}' is ${key.length} bytes; AES-256 needs 32 (base64 of 32 random bytes)`);
    if (keys.some((k) => k.id === id)) throw new KeyFileError(`${where}: key id '${id}' appears twice`);
    keys.push({ id, key });
  });
  if (keys.length === 0) throw new KeyFileError(`${source}: no key in the file`);
  return { current: keys[keys.length - 1], byId: new Map(keys.map((k) => [k.id, k.key])), source };
}

/** A fresh key line: `k-YYYYMMDD-xxxxxx BASE64`. */
export function newKeyLine(now = new Date()): string {
  const id = `k-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
  return `${id} ${randomBytes(32).toString('base64')}\n`;
}

/**
 * The key ring this process uses, or none (payloads travel unencrypted): A2A_DEPLOY_KEY_FILE
 * when set; else, in the embedded mode, the generated key file in `home`.
 */
export function loadKeyRing(opts: { env?: NodeJS.ProcessEnv; embedded: boolean; home: string }): KeyRing | undefined {
  const env = opts.env ?? process.env;
  const file = env.A2A_DEPLOY_KEY_FILE;
  if (file) return readKeyFile(file);
  if (!opts.embedded) return undefined;
  const generated = join(opts.home, KEY_FILE_NAME);
  ensureKeyFile(generated);
  return readKeyFile(generated);
}

function readKeyFile(file: string): KeyRing {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KeyFileError(`cannot read the key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // As ssh does with a private key: one others may read is refused, not used.
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0)
    throw new KeyFileError(
      `the key file ${file} is readable by others (mode ${(statSync(file).mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
    );
  return parseKeyFile(file, text);
}

/**
 * Creates the key file with one key, readable by its owner only, unless it exists. Written
 * aside and linked into place, so a process racing this one never reads a half-written file.
 */
function ensureKeyFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `# a2a-deploy payload keys: KEY_ID BASE64_KEY; the last line encrypts, all decrypt\n${newKeyLine()}`, { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** The key ring of this process for a Temporal configuration: a bad key file is a clear input error. */
export function keyRingFor(cfg: { embedded: boolean; home?: string }): KeyRing | undefined {
  try {
    return loadKeyRing({ embedded: cfg.embedded, home: cfg.home ?? homeDir() });
  } catch (err) {
    if (err instanceof KeyFileError) throw new InvalidInputError(err.message, KEY_FILE_HINT);
    throw err;
  }
}

export const KEY_FILE_HINT =
  'A2A_DEPLOY_KEY_FILE holds lines \'KEY_ID BASE64_KEY\'; make a key with: echo "k2 $(head -c32 /dev/urandom | base64)"';
