// The shipped alert rules and scrape configuration, checked and unit-tested by promtool
// (Debian's prometheus package, installed by scripts/install-prometheus.sh when missing). In the
// integration project because installing it needs root, and `npm run test:unit` must not.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const DIR = join(ROOT, 'deploy', 'prometheus');

const TEST_FILES = ['alerts.test.yml', 'alerts-deploy-slow.test.yml'];
const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 120_000 });

beforeAll(() => {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'install-prometheus.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`install-prometheus.sh failed: ${r.stderr}`);
}, 600_000);

test('promtool check rules accepts the shipped rules', () => {
  const r = promtool('check', 'rules', 'alerts.yml');
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('SUCCESS: 6 rules found');
  expect(r.status).toBe(0);
});

test('promtool check config accepts the scrape configuration', () => {
  const r = promtool('check', 'config', 'prometheus.yml');
  expect(r.status).toBe(0);
});

test('promtool unit tests of every alert pass', () => {
  const r = promtool('test', 'rules', ...TEST_FILES);
  expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
  expect(r.status).toBe(0);
}, 120_000);

test('every shipped alert has a unit test', () => {
  const alerts = [...readFileSync(join(DIR, 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  const tested = new Set(TEST_FILES.flatMap((f) => [...readFileSync(join(DIR, f), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1])));
  expect(alerts.length).toBeGreaterThanOrEqual(5);
  for (const a of alerts) expect(tested).toContain(a);
});
