import { join } from 'node:path';
import { formatDiagnostic } from '../../src/job/diagnostics';
import { loadJobFile, loadJobText } from '../../src/job/validate';

const bad = (name: string) => join(__dirname, '..', 'fixtures', 'bad', name);
const located = (file: string) =>
  loadJobFile(bad(file)).diagnostics.map((d) => `${d.line}:${d.col} ${d.severity}: ${d.message}${d.hint ? ` | ${d.hint}` : ''}`);

describe('validation reports every error, located at its YAML node', () => {
  test('schema: bad names, unknown fields with suggestions, types, ranges, missing fields, target needs', () => {
    expect(located('schema-errors.yaml')).toEqual([
      "2:9 error: job name must start with a lowercase letter and hold only lowercase letters, digits and '-' (at most 63)",
      "3:3 error: unknown field 'descripton' | did you mean 'description'?",
      '8:13 error: port must be between 1 and 65535',
      "11:7 error: unknown field 'enviroment' | did you mean 'environment'?",
      "12:5 error: agent 'maps' has nothing to run | add module: (a Node entry point) or command: [program, args...]",
      "13:5 error: unknown field 'modul' | did you mean 'module'?",
      '15:13 error: port must be a whole number',
      "20:15 error: remote agent 'far' has no host | add deployment.host: the SSH host name or address",
      "24:15 error: container agent 'boxed' has no image | add deployment.image: the image to run, e.g. a2a-deploy/agent:latest",
      "25:5 error: missing required field 'config' | each agent needs config: with at least port:",
      "28:9 error: topology type must be one of: hub-spoke, pipeline, dag, mesh, hierarchical (got 'hub-spokes') | did you mean 'hub-spoke'?",
    ]);
  });

  test('references: duplicate ids, port conflicts, unknown agents with the closest id, unmentioned agents', () => {
    expect(located('refs.yaml')).toEqual([
      "9:21 error: port 9001 on 127.0.0.1 is already used by agent 'weather' | agent 'weather' (line 6) listens there; give each agent on a host its own port",
      "10:9 error: duplicate agent id 'weather' | first defined at line 4; ids must be unique",
      "13:9 warning: agent 'lonely' is not part of the topology | it will run on its own, calling nobody and called by nobody; add it to the topology or remove it",
      "18:8 error: unknown agent 'controler' | defined agents: weather, maps, lonely",
      "19:21 error: unknown agent 'mapz' | did you mean 'maps'?",
    ]);
  });

  test('a DAG cycle is named in call order at its first edge', () => {
    const [d, ...rest] = loadJobFile(bad('cycle.yaml')).diagnostics;
    expect(rest).toEqual([]);
    expect([d.line, d.col, d.message]).toEqual([12, 7, 'cycle in the DAG: a -> b -> c -> a']);
  });

  test('a hierarchy that is not a tree: two parents, unreachable nodes', () => {
    expect(located('tree.yaml')).toEqual([
      "16:9 error: agent 'c' has two parents: 'a' and 'b' | in a hierarchy each agent has exactly one parent",
      "17:5 error: 'island' is not reachable from the root 'root' | list 'island' as a child of an agent under 'root', or make it the root",
    ]);
  });

  test('a hierarchy with a cycle and a root listed as a child', () => {
    const text = [
      'job: { name: loop }',
      'agents:',
      '  - { id: r, module: x, config: { port: 1001 } }',
      '  - { id: a, module: x, config: { port: 1002 } }',
      '  - { id: b, module: x, config: { port: 1003 } }',
      'topology:',
      '  type: hierarchical',
      '  root: r',
      '  children:',
      '    r: [a]',
      '    a: [b, r]',
      '    b: [a]',
    ].join('\n');
    const msgs = loadJobText('loop.yaml', text).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
    expect(msgs).toEqual(["11:12 the root 'r' cannot be a child of 'a'", "12:9 agent 'a' has two parents: 'r' and 'b'"]);
  });

  test('pipelines and meshes may not repeat an agent; a hub is not its own spoke', () => {
    const text = (topology: string) =>
      [
        'job: { name: rep }',
        'agents:',
        '  - { id: a, module: x, config: { port: 1001 } }',
        '  - { id: b, module: x, config: { port: 1002 } }',
        topology,
      ].join('\n');
    expect(
      loadJobText('p.yaml', text('topology: { type: pipeline, stages: [a, b, a] }')).diagnostics.map(
        (d) => `${d.line}:${d.col} ${d.message}`,
      ),
    ).toEqual(["5:44 agent 'a' appears twice in the pipeline"]);
    expect(loadJobText('m.yaml', text('topology: { type: mesh, agents: [a, b, b] }')).diagnostics.map((d) => d.message)).toEqual([
      "agent 'b' appears twice in the mesh",
    ]);
    expect(loadJobText('h.yaml', text('topology: { type: hub-spoke, hub: a, spokes: [b, a] }')).diagnostics.map((d) => d.message)).toEqual([
      "the hub 'a' cannot also be a spoke",
    ]);
  });

  test('YAML syntax errors are located', () => {
    const ds = loadJobFile(bad('syntax.yaml')).diagnostics;
    expect(ds.length).toBeGreaterThan(0);
    expect(ds[0]).toMatchObject({ line: 4, col: 3, severity: 'error' });
    expect(ds[0].message).toMatch(/^YAML: /);
  });

  test('hostile YAML: alias bombs and tags are refused quickly', () => {
    const t0 = process.hrtime.bigint();
    const bomb = loadJobFile(bad('bomb.yaml')).diagnostics;
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(2000);
    expect(bomb.map((d) => d.message)).toEqual(['YAML: Excessive alias count indicates a resource exhaustion attack']);
    expect(located('tags.yaml')).toEqual([
      "2:35 error: YAML tag 'tag:yaml.org,2002:python/object:os.system' is not allowed in a job file | remove the tag; write plain values",
      "3:17 error: YAML tag '!custom' is not allowed in a job file | remove the tag; write plain values",
    ]);
  });

  test('a huge document is refused before parsing', () => {
    const huge = 'a: "' + 'x'.repeat(5 * 1024 * 1024) + '"\n';
    expect(loadJobText('huge.yaml', huge).diagnostics.map((d) => d.message)).toEqual(['document is larger than 4194304 bytes']);
  });

  test('a mesh too big to plan (5,000 agents) is refused at its agents list, with what it would cost and a way out', () => {
    const meshOf = (n: number) => {
      const ids = Array.from({ length: n }, (_, i) => `m${i}`);
      const agents = ids.map((id, i) => `  - { id: ${id}, module: a.js, config: { port: ${20000 + i} } }`);
      return ['job: { name: big }', 'agents:', ...agents, 'topology:', '  type: mesh', `  agents: [${ids.join(', ')}]`].join('\n');
    };
    expect(loadJobText('big.yaml', meshOf(5000)).diagnostics.map((d) => `${d.line}:${d.col} ${d.message} | ${d.hint}`)).toEqual([
      '5005:3 a mesh of 5000 agents gives each of them the URLs of the 4999 others (24995000 in all); a mesh holds at most 400 agents | let a hub route between many agents (hub-spoke), or group them (hierarchical), or split the mesh',
    ]);
    expect(loadJobText('max.yaml', meshOf(400)).diagnostics).toEqual([]);
  });

  test('mesh members on different container networks: each is told the first member it cannot reach', () => {
    const text = [
      'job: { name: nets }',
      'agents:',
      '  - { id: a, module: a.js, config: { port: 1001 } }',
      '  - { id: b, module: a.js, config: { port: 1002 }, deployment: { target: container, image: i, network: n1 } }',
      '  - { id: c, module: a.js, config: { port: 1003 } }',
      'topology: { type: mesh, agents: [a, b, c] }',
    ].join('\n');
    expect(loadJobText('nets.yaml', text).diagnostics.map((d) => `${d.line} ${d.message}`)).toEqual([
      "3 agent 'a' on this machine's network cannot reach 'b' on container network 'n1'",
      "4 agent 'b' on container network 'n1' cannot reach 'a' on this machine's network",
      "5 agent 'c' on this machine's network cannot reach 'b' on container network 'n1'",
    ]);
  });

  test('a missing file or a directory is a clean error', () => {
    expect(loadJobFile('/no/such/job.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      '/no/such/job.yaml:1:1: error: no such file\n  hint: check the path; job examples live in jobs/examples/',
    ]);
    expect(loadJobFile(__dirname).diagnostics[0].message).toBe('not a regular file');
  });

  test('a duplicate key and a document that is not a mapping', () => {
    expect(loadJobText('d.yaml', 'job: {name: a}\njob: {name: b}\n').diagnostics[0]).toMatchObject({
      line: 2,
      col: 1,
      message: 'YAML: Map keys must be unique',
    });
    expect(loadJobText('l.yaml', '- a\n- b\n').diagnostics[0].message).toBe('a job file is a mapping with job, agents and topology');
  });

  test('ids that are unsafe in process or container names are refused', () => {
    const text =
      'job: { name: ok }\nagents:\n  - { id: "a;rm -rf /", module: x, config: { port: 1001 } }\ntopology: { type: mesh, agents: ["a;rm -rf /"] }\n';
    expect(loadJobText('i.yaml', text).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      "3:11 agent id must start with a lowercase letter and hold only lowercase letters, digits and '-' (at most 63)",
    ]);
  });

  test('agents that call each other must share a network: a job network is closed to the host', () => {
    const text = [
      'job: { name: nets }',
      'agents:',
      '  - { id: local, module: x, config: { port: 3001 } }',
      '  - { id: boxed, config: { port: 3003 }, deployment: { target: container, image: img, network: jobnet } }',
      'topology: { type: hub-spoke, hub: local, spokes: [boxed] }',
    ].join('\n');
    expect(loadJobText('n.yaml', text).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
      "3:5 agent 'local' on this machine's network cannot reach 'boxed' on container network 'jobnet'",
    ]);
  });
});

describe('what no deploy could satisfy is refused in the file (issue 10, defect 8)', () => {
  test('NUL bytes, impossible timeouts and a negative max_restarts, each located and worded', () => {
    expect(located('limits.yaml')).toEqual([
      '6:27 error: this text holds a NUL byte (\\0) | no program can receive a NUL byte in its arguments or environment; remove it',
      "9:26 error: health.timeout of agent 'b' is 0ms: no agent can start and answer that fast (at least 1s) | give the time the agent needs to become ready, e.g. timeout: 30s (the default), or 90s for a slow start",
      '11:29 error: this text holds a NUL byte (\\0) | no program can receive a NUL byte in its arguments or environment; remove it',
      "16:40 error: health.interval of agent 'slow' (10s) is not shorter than its health.timeout (5s): the agent would get a single probe | make the interval a fraction of the timeout, e.g. interval: 1s with timeout: 30s",
      '17:30 error: max_restarts must be a whole number: 0 or more (0: never restart; there is no unlimited, use a large number)',
      "17:61 error: restart.max_backoff of agent 'slow' (2s) is shorter than its backoff (10s) | max_backoff caps the doubling backoff: make it at least the backoff",
      "22:27 error: health.interval of agent 'quick' is 1ms: probes need at least 10ms between them | the default, 100ms, notices readiness quickly; the interval only caps the backoff between probes",
      "23:48 error: worker_timeout of agent 'quick' is 10ms: a worker cannot pick up work that fast (at least 1s) | the default, 2m, leaves a host worker time to reconnect",
      "24:24 error: restart.window of agent 'quick' is 500ms: too short to count restarts in (at least 1s) | the window is the span max_restarts is counted over, e.g. window: 10m",
    ]);
  });

  const sized = (lines: string[]) =>
    loadJobText(
      's.yaml',
      ['job: { name: sizes }', 'agents:', ...lines, 'topology: { type: mesh, agents: [a] }'].join('\n'),
    ).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);

  test('an argument or a variable beyond MAX_ARG_STRLEN, and all of them beyond ARG_MAX', () => {
    const big = 'x'.repeat(140 * 1024);
    expect(
      sized([
        '  - id: a',
        `    command: [node, ${big}]`,
        '    config: { port: 1001 }',
        `    deployment: { environment: { BIG: ${big}, SMALL: "${'y'.repeat(1000)}" } }`,
      ]),
    ).toEqual([
      "4:21 argument 2 of agent 'a' is 140 KiB, more than the 128 KiB the OS allows for one argument or variable (MAX_ARG_STRLEN); pass large data in a file",
      "6:39 BIG of agent 'a' is 140 KiB, more than the 128 KiB the OS allows for one argument or variable (MAX_ARG_STRLEN); pass large data in a file",
    ]);
    // Just under the limit passes (name, '=' and the terminating NUL included).
    const fits = 'x'.repeat(128 * 1024 - 'BIG='.length - 1);
    expect(
      sized(['  - id: a', '    module: x', '    config: { port: 1001 }', `    deployment: { environment: { BIG: ${fits} } }`]),
    ).toEqual([]);
    // Twenty values of 120 KiB each pass one by one, not together.
    const many = Array.from({ length: 20 }, (_, i) => `V${i}: ${'z'.repeat(120 * 1024)}`).join(', ');
    expect(sized(['  - id: a', '    module: x', '    config: { port: 1001 }', `    deployment: { environment: { ${many} } }`])).toEqual([
      "3:5 agent 'a': its arguments and environment take 2400 KiB, more than the 1984 KiB the OS leaves for them (ARG_MAX, E2BIG)",
    ]);
  });
});

test('every enum error names the value it got, the topology type too (issue 23)', () => {
  const text = [
    'job: { name: x, priority: urgent }',
    'agents:',
    '  - id: a',
    '    module: m.js',
    '    restart: { policy: sometimes }',
    '    deployment: { target: moon }',
    '    config: { port: 19999, health: { type: ping } }',
    'topology: { type: ring, agents: [a] }',
  ].join('\n');
  expect(loadJobText('e.yaml', text).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`)).toEqual([
    "1:27 priority must be one of: low, normal, high, critical (got 'urgent')",
    "5:24 restart policy must be one of: never, on-failure, always (got 'sometimes')",
    "6:27 target must be one of: localhost, remote, container, kubernetes (got 'moon')",
    "7:44 health type must be one of: a2a, http, tcp (got 'ping')",
    "8:19 topology type must be one of: hub-spoke, pipeline, dag, mesh, hierarchical (got 'ring')",
  ]);
});
