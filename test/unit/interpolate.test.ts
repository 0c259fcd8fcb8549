import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interpolate, loadVars, parseEnvFile } from '../../src/job/interpolate';
import { resolvePlan } from '../../src/job/plan';
import { loadJobText } from '../../src/job/validate';

const value = (s: string, vars: Record<string, string> = {}) => {
  const r = interpolate(s, vars);
  return 'error' in r ? `error@${r.error.offset}: ${r.error.message}` : r.value;
};

describe('${NAME} in values', () => {
  test('every form', () => {
    const vars = { A: 'one', EMPTY: '' };
    expect(value('x-${A}-y', vars)).toBe('x-one-y');
    expect(value('${MISSING:-fallback}', vars)).toBe('fallback');
    expect(value('${EMPTY:-fallback}', vars)).toBe('fallback');
    expect(value('${EMPTY-fallback}', vars)).toBe('');
    expect(value('${MISSING-fallback}', vars)).toBe('fallback');
    expect(value('${A:-fallback}', vars)).toBe('one');
    expect(value('${A:?needed}', vars)).toBe('one');
    expect(value('ab ${MISSING:?give the key}', vars)).toBe('error@3: variable MISSING is not set: give the key');
    expect(value('${EMPTY:?give it}', vars)).toBe('error@0: variable EMPTY is empty: give it');
    expect(value('${MISSING}', vars)).toBe('error@0: variable MISSING is not set');
  });

  test('$$ is a literal $, and a lone $ stays', () => {
    expect(value('price: $$5 and $${A}', { A: 'x' })).toBe('price: $5 and ${A}');
    expect(value('cost $5, a$b', {})).toBe('cost $5, a$b');
  });

  test('malformed references are errors', () => {
    expect(value('${A', {})).toBe("error@0: unterminated '${' in a value");
    expect(value('${1A}', {})).toBe("error@0: invalid variable name '1A' in '${1A}'");
    expect(value('${A:x}', { A: 'v' })).toBe("error@0: unsupported form '${A:x}'");
  });
});

describe('env files', () => {
  test('KEY=VALUE lines, comments, export, quotes; bad lines located', () => {
    const { vars, errors } = parseEnvFile('e.env', '# note\n\nexport A=1\nB = "two words"\nC=\'x\'\nnot a pair\nD=a=b\n');
    expect(vars).toEqual({ A: '1', B: 'two words', C: 'x', D: 'a=b' });
    expect(errors).toEqual([{ file: 'e.env', line: 6, message: 'expected KEY=VALUE' }]);
  });

  test('later files win over earlier ones, the process environment over all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'envfile-'));
    writeFileSync(join(dir, 'a.env'), 'X=from-a\nY=from-a\nZ=from-a\n');
    writeFileSync(join(dir, 'b.env'), 'Y=from-b\nZ=from-b\n');
    const { vars, errors } = loadVars([join(dir, 'a.env'), join(dir, 'b.env')], { Z: 'from-env' });
    expect(errors).toEqual([]);
    expect([vars.X, vars.Y, vars.Z]).toEqual(['from-a', 'from-b', 'from-env']);
    expect(loadVars([join(dir, 'none.env')], {}).errors[0]).toMatchObject({ line: 1, message: 'cannot read env file: ENOENT' });
  });
});

const job = (agents: string) => `job: { name: j }
agents:
${agents}
topology: { type: mesh, agents: [a] }
`;

describe('variables in a job file', () => {
  test('values are interpolated; an unquoted number stays a number; keys are not touched', () => {
    const text = job(`  - id: a
    module: ./a.js
    config:
      port: \${PORT}
    deployment:
      environment: { GREETING: "hi \${WHO:-world}", QUOTED: "\${PORT}", LITERAL: "$$HOME" }`);
    const loaded = loadJobText('v.yaml', text, { vars: { PORT: '19001' } });
    expect(loaded.diagnostics).toEqual([]);
    const plan = resolvePlan(loaded.job!, 'v.yaml');
    expect(plan.agents.a.port).toBe(19001);
    expect(plan.agents.a.env).toMatchObject({ GREETING: 'hi world', QUOTED: '19001', LITERAL: '$HOME' });
  });

  test('an unset variable is an error at FILE:LINE:COL naming it', () => {
    const text = job(`  - id: a
    module: ./a.js
    config: { port: 19001 }
    deployment:
      environment:
        KEY: "prefix \${API_KEY}"
        OTHER: \${TOKEN:?set TOKEN first}`);
    const ds = loadJobText('u.yaml', text, { vars: {} }).diagnostics;
    expect(ds.map((d) => `${d.file}:${d.line}:${d.col} ${d.message}`)).toEqual([
      'u.yaml:8:22 variable API_KEY is not set',
      'u.yaml:9:16 variable TOKEN is not set: set TOKEN first',
    ]);
    expect(ds[0].hint).toContain('--env-file');
  });

  test('without variables a file is read as written', () => {
    const text = job(`  - id: a
    module: ./a.js
    config: { port: 19001 }
    deployment: { environment: { X: "\${NOPE}" } }`);
    const loaded = loadJobText('w.yaml', text);
    expect(resolvePlan(loaded.job!, 'w.yaml').agents.a.env.X).toBe('${NOPE}');
  });
});

describe('merge keys and x- extension fields', () => {
  const text = `x-agent: &base
  module: ./a.js
  deployment: &dep
    environment: { SHARED: "yes" }
    target: locahost
x-note: anything goes here
job: { name: j }
agents:
  - <<: *base
    id: a
    config: { port: 19001 }
  - <<: *base
    id: b
    config: { port: 19002 }
    deployment:
      <<: *dep
      target: localhost
topology: { type: mesh, agents: [a, b] }
`;

  test('merged fields are errors where they are written; x- fields are ignored', () => {
    const ds = loadJobText('m.yaml', text).diagnostics;
    // a inherits the typo from the anchor; b overrides it.
    expect(ds.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      "5:13 target must be one of: localhost, remote, container, kubernetes (got 'locahost')",
    ]);
  });

  test('a valid file with merge keys plans with the merged fields', () => {
    const loaded = loadJobText('m.yaml', text.replace('target: locahost', 'target: localhost'));
    expect(loaded.diagnostics).toEqual([]);
    const plan = resolvePlan(loaded.job!, 'm.yaml');
    expect(plan.agents.b.env.SHARED).toBe('yes');
    expect(plan.agents.a.run.module).toBe('./a.js');
  });

  test('an unknown top-level field that is not x- is still an error', () => {
    const ds = loadJobText('n.yaml', text.replace('x-note', 'note')).diagnostics;
    expect(ds.map((d) => `${d.line}:${d.col} ${d.message}`)).toContain("6:1 unknown field 'note'");
  });
});

test('${VAR} inside YAML flow mappings and sequences, with errors still at FILE:LINE:COL (issue 23)', () => {
  const text = [
    'job: { name: flow }',
    'agents:',
    '  - { id: a, module: m.js, config: { port: ${P} }, args: [${X}, "q-${X}", "${Q:-d}"] }',
    'topology: { type: mesh, agents: [a] }',
  ].join('\n');
  const ok = loadJobText('f.yaml', text, { vars: { P: '19002', X: 'x1' } });
  expect(ok.diagnostics).toEqual([]);
  expect(ok.job!.agents[0]).toMatchObject({ config: { port: 19002 }, args: ['x1', 'q-x1', 'd'] });
  const bad = loadJobText('f.yaml', text, { vars: { X: 'x1' } }).diagnostics;
  expect(bad.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual(['3:44 variable P is not set']);
  // A literal '{' elsewhere is untouched: an unterminated '${' is still its own error.
  const open = loadJobText('o.yaml', text.replace('${X}, ', '"${X", '), { vars: { P: '1', X: 'x' } }).diagnostics;
  expect(open.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual(["3:60 unterminated '${' in a value"]);
});
