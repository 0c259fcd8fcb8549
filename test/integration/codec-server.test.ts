// The codec server over real HTTP, with no token set: it answers only its own Host and the
// allowed origins (DNS rebinding), keeps key ids and the key file out of its errors, and
// replies 413 to a body over 8 MiB instead of resetting the connection.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newKeyLine } from '../../src/temporal/codec-keys';
import { ROOT } from './support/stack';

const PORT = 27871;
const ORIGIN = 'http://127.0.0.1:8233';
const home = mkdtempSync(join(tmpdir(), 'codec-it-'));
const keyFile = join(home, 'keys');
let server: ChildProcess;
let stderr = '';

beforeAll(async () => {
  writeFileSync(keyFile, newKeyLine(), { mode: 0o600 });
  server = spawn(process.execPath, [join(ROOT, 'bin', 'a2a-deploy.js'), 'codec-server', '--port', String(PORT), '--origin', ORIGIN], {
    env: { ...process.env, A2A_DEPLOY_HOME: home, A2A_DEPLOY_KEY_FILE: keyFile, A2A_DEPLOY_CODEC_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  server.stdout!.on('data', (d) => (out += d));
  server.stderr!.on('data', (d) => (stderr += d));
  for (let i = 0; i < 100 && !out.includes('Codec server on'); i++) await new Promise((r) => setTimeout(r, 100));
  expect(out).toContain('Codec server on');
});

afterAll(async () => {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
});

function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: PORT, path, method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const plain = JSON.stringify({
  payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hi"').toString('base64') }],
});

test('a Host that is not the bound address is refused; the loopback spellings are answered', async () => {
  expect((await post('/encode', plain, { Host: `rebind.attacker.example:${PORT}` })).status).toBe(421);
  for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, `[::1]:${PORT}`])
    expect((await post('/encode', plain, { Host: host })).status).toBe(200);
});

test('a disallowed Origin is refused; the configured one is answered', async () => {
  const bad = await post('/encode', plain, { Origin: 'http://evil.example' });
  expect(bad.status).toBe(403);
  expect(bad.body).not.toContain('payloads');
  expect((await post('/encode', plain, { Origin: ORIGIN })).status).toBe(200);
});

test('a payload it cannot decode: 422 naming neither key ids nor the key file; the reason goes to its log', async () => {
  const enc = await post('/encode', plain);
  const payload = JSON.parse(enc.body).payloads[0];
  payload.metadata['encryption-key-id'] = Buffer.from('nosuchkey').toString('base64');
  const res = await post('/decode', JSON.stringify({ payloads: [payload] }));
  expect(res.status).toBe(422);
  expect(res.body).toContain('cannot decode');
  expect(res.body).not.toContain('nosuchkey');
  expect(res.body).not.toContain(keyFile);
  expect(res.body).not.toMatch(/'k[0-9a-z-]*'/);
  for (let i = 0; i < 50 && !stderr.includes('nosuchkey'); i++) await new Promise((r) => setTimeout(r, 100));
  expect(stderr).toContain('nosuchkey');
});

test('a body over 8 MiB gets a 413, not a reset', async () => {
  const res = await post('/encode', Buffer.alloc(9 * 2 ** 20, 0x20));
  expect(res.status).toBe(413);
});

describe('the key file, through the real CLI', () => {
  const cli = (file: string) =>
    spawnSync(process.execPath, [join(ROOT, 'bin', 'a2a-deploy.js'), 'codec-server', '--port', String(PORT + 1)], {
      env: { ...process.env, A2A_DEPLOY_HOME: home, A2A_DEPLOY_KEY_FILE: file },
      encoding: 'utf8',
      timeout: 10_000,
    });
  test('a group- or world-readable key file is refused with the chmod hint', () => {
    const file = join(home, 'open-keys');
    writeFileSync(file, newKeyLine(), { mode: 0o644 });
    const r = cli(file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`chmod 600 ${file}`);
  });
  test('a key with stray characters in its base64 is refused, naming the line', () => {
    const file = join(home, 'bad-keys');
    const [id, b64] = newKeyLine().trim().split(' ');
    writeFileSync(file, `${newKeyLine()}${id}x ${b64.slice(0, 10)}!${b64.slice(10)}\n`, { mode: 0o600 });
    const r = cli(file);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}:2`);
    expect(r.stderr).toContain('not valid base64');
  });
});
