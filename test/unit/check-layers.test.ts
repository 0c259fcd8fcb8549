// The layer check of `npm run lint` (scripts/check-layers.ts): the tree as it is passes, and each
// kind of wrong dependency put back into it (an upward import, a type-only one, a cycle, a folder
// in no layer) is reported at its file and line.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkLayers, layerOf, LAYERS } from '../../scripts/check-layers';

const root = resolve(__dirname, '..', '..');
const real = (file: string) => readFileSync(join(root, file), 'utf8');
/** The repository with `extra` lines appended to some files (their line numbers: the original length + 1...). */
const withAdded = (extra: Record<string, string>) =>
  checkLayers({ root, roots: ['src', 'bench'], read: (f) => (f in extra ? `${real(f)}\n${extra[f]}` : real(f)) });
const lineAfter = (file: string) => real(file).split('\n').length + 1;

test('the tree as it is has no upward import and no cycle', () => {
  expect(checkLayers({ root })).toEqual([]);
});

test('an upward import put back (metrics on the CLI) is reported where it is', () => {
  const file = 'src/metrics/options.ts';
  const findings = withAdded({ [file]: "import { CliError } from '../cli/exit-codes';" });
  expect(findings).toEqual([
    {
      file,
      line: lineAfter(file),
      message: "imports src/cli/exit-codes.ts: layer 'metrics' may not import the higher layer 'cli'",
    },
  ]);
});

test('a type-only import counts, and the API may not use the example agents', () => {
  const findings = withAdded({
    'src/metrics/instruments.ts': "import type { AgentRef } from '../activities/types';",
    'src/api/a2a-send.ts': "import { startAgent } from '../agents/runtime';",
  });
  expect(findings.map((f) => `${f.file}: ${f.message}`)).toEqual([
    "src/api/a2a-send.ts: imports src/agents/runtime.ts: layer 'api' may not import the higher layer 'agents'",
    "src/metrics/instruments.ts: imports src/activities/types.ts: layer 'instruments' may not import the higher layer 'activity-types'",
  ]);
});

test('a cycle within one layer is reported with its path', () => {
  const findings = withAdded({ 'src/common/errors.ts': "import './duration';", 'src/common/duration.ts': "import './errors';" });
  expect(findings).toEqual([
    {
      file: 'src/common/duration.ts',
      line: lineAfter('src/common/duration.ts'),
      message: 'is in an import cycle: src/common/duration.ts -> src/common/errors.ts -> src/common/duration.ts',
    },
  ]);
});

test('a source folder in no layer is reported, so every new folder gets a place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'layers-'));
  try {
    mkdirSync(join(dir, 'src', 'common'), { recursive: true });
    mkdirSync(join(dir, 'src', 'elsewhere'));
    writeFileSync(join(dir, 'src', 'common', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(dir, 'src', 'elsewhere', 'b.ts'), "import { a } from '../common/a';\nexport const b = a;\n");
    expect(checkLayers({ root: dir, roots: ['src'] })).toEqual([
      { file: 'src/elsewhere/b.ts', line: 1, message: 'is in no layer: add its folder to LAYERS in scripts/check-layers.ts' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file belongs to the layer of the longest path that holds it', () => {
  const name = (file: string) => LAYERS[layerOf(file, LAYERS)]?.name;
  expect(name('src/metrics/instruments.ts')).toBe('instruments');
  expect(name('src/metrics/server.ts')).toBe('metrics');
  expect(name('src/activities/docker/containers.ts')).toBe('activities');
  expect(name('src/index.ts')).toBe('library');
  expect(name('src/indexes/x.ts')).toBeUndefined(); // not inside src/index.ts
});
