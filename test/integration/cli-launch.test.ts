// The CLI as a user runs it, the installed `a2a-deploy` command (bin/a2a-deploy.js executed
// through its #! line, as npm links it), on this machine's Node (the engines' lowest major, 20):
// Node 20 reads `--env-file` anywhere on its command line, so a variables file must reach the
// CLI alone and never change how a2a-deploy runs (issue 23, item 4). Needs no Temporal server:
// everything here is refused or done before connecting. Also: what the CLI writes to a terminal
// (a real pseudo-terminal, from util-linux `script`) holds no terminal commands (issue 23, item 11).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './support/stack';

const dir = mkdtempSync(join(tmpdir(), 'a2a-launch-'));
const ran = join(dir, 'evil-ran');
// Nothing listens on port 9: a call that tried to connect would fail, not start a server.
const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:9', A2A_DEPLOY_HOME: join(dir, 'home') };
delete env.NODE_OPTIONS;

function a2a(args: string[]) {
  // The file itself, not `node FILE`: its #! line is how the command starts.
  const r = spawnSync(CLI, args, { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  writeFileSync(join(dir, 'evil.js'), `require('fs').writeFileSync(${JSON.stringify(ran)}, 'ran');\n`);
  writeFileSync(join(dir, 'vars.env'), 'NODE_OPTIONS=--require ./evil.js\nPORT=19777\n');
  writeFileSync(
    join(dir, 'job.yaml'),
    'job: { name: launch }\nagents:\n  - id: a\n    module: a2a-deploy/agents/weather\n    config:\n      port: ${PORT}\ntopology: { type: mesh, agents: [a] }\n',
  );
});

test.each([[['--env-file', 'vars.env']], [['--env-file=vars.env']]])('%j reaches the CLI; its NODE_OPTIONS runs nothing', (flag) => {
  const r = a2a(['plan', 'job.yaml', '--json', ...flag]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  // The CLI read the file: the port came from it.
  expect(JSON.parse(r.stdout).agents.a.url).toBe('http://127.0.0.1:19777');
  expect(existsSync(ran)).toBe(false);
});

test('a missing env file is the CLI error (exit 2, FILE:LINE), not the runtime one', () => {
  const r = a2a(['validate', 'job.yaml', '--env-file', 'missing.env']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('missing.env:1: error: cannot read env file');
  expect(r.stderr).not.toContain('node:');
});

test('prune --older-than beyond a century: exit 2 with a hint, before connecting', () => {
  const r = a2a(['prune', '--older-than', '99999999999d']);
  expect(r.stderr).toContain('more than a century');
  expect(r.stderr).toContain('hint:');
  expect(r.stderr).not.toContain('unexpected error');
  expect(r.code).toBe(2);
});

test('control characters reach a terminal as escapes, and a pipe as they were', () => {
  // An unknown field's name is echoed back: here, sequences that clear the screen, set the window
  // title and draw a fake line, as an agent's stderr could hold them (start, status, logs).
  writeFileSync(
    join(dir, 'esc.yaml'),
    'job:\n  name: esc\n  "\\e[2J\\e]0;pwned\\a\\r\\e[Kfake": 1\nagents:\n  - id: a\n    module: m.js\n    config:\n      port: 19999\ntopology: { type: mesh, agents: [a] }\n',
  );
  const tty = spawnSync('script', ['-qec', `${CLI} validate esc.yaml`, '/dev/null'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  expect(tty.stdout).toContain("unknown field '\\x1b[2J\\x1b]0;pwned\\x07\\r\\x1b[Kfake'");
  expect(tty.stdout).not.toContain('\x1b');
  const piped = a2a(['validate', 'esc.yaml']);
  expect(piped.code).toBe(2);
  expect(piped.stderr).toContain("unknown field '\x1b[2J\x1b]0;pwned\x07\r\x1b[Kfake'");
});
