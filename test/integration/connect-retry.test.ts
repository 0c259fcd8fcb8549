// A server that answers late is waited for, within bounds (issue 10, defect 10: under load one of
// 15 parallel stops exited 3, "cannot reach Temporal", with the server up). The CLI retries
// connecting for 8 s before it reports the server unreachable.
import { spawn, type ChildProcess } from 'node:child_process';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(60_000);
let stack: Stack;
let late: ChildProcess | undefined;
const PORT = 19449;

beforeAll(async () => {
  stack = await startStack(26033, 26133);
});
afterAll(async () => {
  late?.kill('SIGKILL');
  await stack.close();
});

test('a server that starts listening 4 s after the command started is reached; none at all gives exit 3 after about 8 s', async () => {
  const [host, port] = stack.address.split(':');
  // A forwarder to the real server that opens its port only after 4 s, as a server does that is slow to accept.
  const program = `setTimeout(() => require('node:net').createServer((i) => { const o = require('node:net').connect(${port}, '${host}'); i.pipe(o).pipe(i); i.on('error', () => o.destroy()); o.on('error', () => i.destroy()); }).listen(${PORT}, '127.0.0.1'), 4000);`;
  late = spawn(process.execPath, ['-e', program], { stdio: 'ignore' });
  const t0 = Date.now();
  const r = await stack.cliAsync(['list', '--all'], { env: { TEMPORAL_ADDRESS: `127.0.0.1:${PORT}` } });
  const seconds = (Date.now() - t0) / 1000;
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(seconds).toBeGreaterThan(4);

  late.kill('SIGKILL');
  const t1 = Date.now();
  const gone = await stack.cliAsync(['list', '--all'], { env: { TEMPORAL_ADDRESS: `127.0.0.1:${PORT}` } });
  const waited = (Date.now() - t1) / 1000;
  expect(gone.code).toBe(3);
  expect(gone.stderr).toContain(`cannot reach Temporal at 127.0.0.1:${PORT}`);
  expect(waited).toBeGreaterThan(7);
  expect(waited).toBeLessThan(20);
});
