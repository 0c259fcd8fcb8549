// The CLI's declared usage (src/cli/specs.ts) against the README, and the parser's checks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arity, checkMessage, commandHelp, globalHelp, parse, parseDuration, shown, usageLine } from '../../src/cli/args';
import { CliError } from '../../src/cli/exit-codes';
import { renderServerView, renderStatus } from '../../src/cli/commands/status';
import { COMMAND_SPECS, MAX_MESSAGE_BYTES, MAX_TAIL_LINES, type CommandName } from '../../src/cli/specs';

const names = Object.keys(COMMAND_SPECS) as CommandName[];

/** The rows of README.md's "## Commands" table: [command cell, description cell]. */
function readmeRows(): [string, string][] {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.split('\n## Commands\n')[1].split('\n## ')[0];
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const cells = l.split(' | ');
      return [cells[0].slice(2), cells.slice(1).join(' | ')];
    });
}

/** Parses, returning the error a user would see instead of throwing it. */
function attempt(argv: string[], name: CommandName) {
  try {
    return parse(argv, name);
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
}

describe('README command table', () => {
  const rows = readmeRows();
  const rowOf = (name: string) => rows.find(([cmd]) => new RegExp('`' + name + '( |`)').test(cmd));

  test.each(names)('%s is in the table with its arguments and every flag', (name) => {
    const row = rowOf(name);
    expect(row).toBeDefined();
    const [cmd, what] = row!;
    expect(cmd).toContain(`\`${[name, COMMAND_SPECS[name].args].filter(Boolean).join(' ')}\``);
    for (const flag of Object.keys(COMMAND_SPECS[name].options)) expect(`${name}: ${what}`).toContain(`--${flag}`);
  });

  test('every command in the table exists', () => {
    for (const [cmd] of rows) for (const m of cmd.matchAll(/`([a-z][a-z-]*)/g)) expect(names).toContain(m[1]);
  });
});

describe('help', () => {
  test('global help shows every command with all its flags', () => {
    const help = globalHelp();
    for (const name of names) expect(help).toContain(usageLine(name).replace('a2a-deploy ', ''));
    expect(usageLine('send')).toBe('a2a-deploy send JOB MESSAGE [--agent ID] [--stream] [--timeout DURATION] [--json]');
  });

  test('command help explains each option', () => {
    const help = commandHelp('logs');
    expect(help).toContain('usage: a2a-deploy logs JOB [AGENT] [--tail N] [--follow]');
    expect(help).toMatch(/-f, --follow +keep printing/);
    expect(help).toContain(`at most ${MAX_TAIL_LINES}`);
  });
});

describe('parse', () => {
  test('arity comes from the args string', () => {
    expect(arity('JOB [AGENT]')).toEqual({ min: 1, max: 2 });
    expect(arity('FILE...')).toEqual({ min: 1, max: Infinity });
    expect(arity('')).toEqual({ min: 0, max: 0 });
  });

  test('typed values: durations in ms, integers, choices', () => {
    const r = parse(['j', 'hi', '--timeout', '2m', '--agent', 'weather'], 'send');
    expect(r.values).toEqual({ timeout: 120_000, agent: 'weather' });
    expect(parse(['j', '--tail', '10', '-f'], 'logs').values).toEqual({ tail: 10, follow: true });
  });

  test.each([
    [['j', 'hi', '--timeout', 'abc'], 'send', /--timeout takes a duration such as 30s, 500ms or 2m, not 'abc'/],
    [['j', 'hi', '--timeout', '2h'], 'send', /--timeout takes at most 1h/],
    [['j', 'hi', '--timeout', '0'], 'send', /--timeout takes a duration/],
    [['j', '--tail', String(MAX_TAIL_LINES + 1)], 'logs', new RegExp(`--tail takes a number from 0 to ${MAX_TAIL_LINES}`)],
    [['j', '--tail', '-3'], 'logs', /--tail/],
    [['j', '--tail', '1e3'], 'logs', /--tail takes a whole number/],
    [['f.yaml', '--format', 'svg'], 'plan', /--format takes one of table, json, mermaid/],
    [['f.yaml', '--json', '--format', 'table'], 'plan', /--json and --format cannot be given together/],
    [['--detach', '--stop'], 'worker', /--detach and --stop cannot be given together/],
    [['--host', 'Bad_Host'], 'worker', /'Bad_Host' is not a worker name/],
    [['Web-Job'], 'status', /'Web-Job' is not a job name/],
    [['job', 'Bad'], 'logs', /'Bad' is not an agent name/],
    [[], 'status', /missing JOB/],
    [['a', 'b'], 'status', /unexpected argument 'b'/],
    [['j', '--nope'], 'status', /Unknown option '--nope'/],
  ] as [string[], CommandName, RegExp][])('%j for %s is refused with exit 2', (argv, name, message) => {
    const err = attempt(argv, name);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(message);
    expect((err as CliError).hint).toBeTruthy();
  });

  test('a huge or unprintable argument is refused without being echoed', () => {
    const huge = 'x'.repeat(100_000);
    for (const [argv, name] of [
      [[huge], 'status'],
      [['j', `--${huge}`], 'status'],
      [['j', huge], 'logs'],
      [['ok\u001b[31m'], 'status'],
    ] as [string[], CommandName][]) {
      const err = attempt(argv, name) as CliError;
      expect(err.exitCode).toBe(2);
      expect(err.message.length + (err.hint ?? '').length).toBeLessThan(400);
      expect(err.message).not.toContain('\u001b');
    }
    expect(shown(huge)).toBe('an argument of 100000 characters');
  });

  test('a message over the limit is refused before sending', () => {
    expect(() => checkMessage('x'.repeat(MAX_MESSAGE_BYTES))).not.toThrow();
    const err = attempt(['j', 'é'.repeat(MAX_MESSAGE_BYTES / 2 + 1)], 'send') as CliError;
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('the message is 65 KiB; send takes at most 64 KiB');
    expect((attempt(['j', '  '], 'send') as CliError).message).toBe('the message is empty');
  });
});

test('durations', () => {
  expect(parseDuration('30s')).toBe(30_000);
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('1.5')).toBe(1500);
  expect(parseDuration('2m')).toBe(120_000);
  expect(parseDuration('7d')).toBe(7 * 86_400_000);
  for (const bad of ['abc', '30 s', '-1s', '5w', '', '9'.repeat(30)]) expect(parseDuration(bad)).toBeUndefined();
});

test("status without a worker shows the workflow's memo, with each agent's last error and when", () => {
  const text = renderServerView({
    job: 'web',
    workflow: 'RUNNING',
    phase: 'degraded',
    updatedAt: '2026-11-25T10:00:01.123Z',
    agents: {
      api: { state: 'healthy', pid: 42, url: 'http://127.0.0.1:19100', restarts: 0 },
      db: {
        state: 'restarting',
        url: 'http://127.0.0.1:19101',
        restarts: 2,
        lastError: 'exited with code 3\nstack',
        lastErrorAt: '2026-11-25T09:59:58.000Z',
      },
    },
  });
  expect(text).toContain('Job web: degraded; workflow running; as of 2026-11-25 10:00:01Z');
  expect(text).toMatch(/db +restarting +- +2 +http:\/\/127\.0\.0\.1:19101 +exited with code 3 \(at 2026-11-25 09:59:58Z\)\n?$/);
  expect(renderServerView({ job: 'web', workflow: 'COMPLETED', phase: 'stopped' })).toContain(
    'the per-agent state is kept by the workflow',
  );
});

test('status shows a restarted agent healthy again, with the error that made it restart and when', () => {
  const agent = { stage: 0, target: 'localhost', url: 'http://127.0.0.1:19100', since: '2026-11-25T10:00:05.000Z' };
  const text = renderStatus({
    job: 'web',
    topology: 'mesh',
    phase: 'running',
    entry: 'api',
    stages: [['api']],
    paused: false,
    agents: {
      api: {
        ...agent,
        id: 'api',
        state: 'healthy',
        pid: 43,
        restarts: 1,
        lastError: "agent 'api' exited with code 3\nboom",
        lastErrorAt: '2026-11-25T10:00:01.000Z',
      },
    },
  });
  expect(text).toMatch(
    /api +healthy +0 +43 +1 +http:\/\/127\.0\.0\.1:19100 +2026-11-25 10:00:05Z +agent 'api' exited with code 3 \(at 2026-11-25 10:00:01Z\)\n?$/,
  );
});

test('status of an agent killed for memory: the kill as the last error, its usage in a USAGE column', () => {
  const text = renderStatus({
    job: 'lim',
    topology: 'mesh',
    phase: 'running',
    entry: 'hog',
    stages: [['hog']],
    paused: false,
    agents: {
      hog: {
        id: 'hog',
        stage: 0,
        target: 'localhost',
        url: 'http://127.0.0.1:19100',
        since: '2026-11-25T10:00:05.000Z',
        state: 'healthy',
        pid: 44,
        restarts: 1,
        lastError: "agent 'hog' killed: out of memory (limit 256m, peak 255m)",
        lastErrorAt: '2026-11-25T10:00:01.000Z',
        usage: {
          mechanism: 'cgroup v1',
          memoryBytes: 40 * 2 ** 20,
          memoryLimitBytes: 256 * 2 ** 20,
          memoryPeakBytes: 41 * 2 ** 20,
          cpuSeconds: 1.25,
          pids: 7,
        },
      },
    },
  });
  expect(text.split('\n')[1]).toMatch(/^AGENT +STATE +STAGE +PID +RESTARTS +URL +SINCE +USAGE +LAST ERROR$/);
  expect(text).toContain(
    "mem 40m/256m (peak 41m), cpu 1.3s, pids 7 (cgroup v1)  agent 'hog' killed: out of memory (limit 256m, peak 255m) (at 2026-11-25 10:00:01Z)",
  );
});
