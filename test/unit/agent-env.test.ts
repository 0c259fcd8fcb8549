import { ApplicationFailure } from '@temporalio/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildAgentEnv,
  REDACTED,
  resolveSecrets,
  resolveSecretsOrFail,
  scrub,
  scrubLogs,
  secretValues,
} from '../../src/activities/agent-env';
import { resolvePlan } from '../../src/job/plan';
import { loadJobText } from '../../src/job/validate';

// What every agent may get from the worker.
const base = { PATH: '/usr/bin', HOME: '/root', USER: 'root', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', TMPDIR: '/tmp' };
const workerEnv = {
  ...base,
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  TEMPORAL_API_KEY: 'worker-credential',
  A2A_DEPLOY_HOME: '/root/.a2a-deploy',
  A2A_DEPLOY_KEY_FILE: '/keys',
  npm_config_cache: '/root/.npm',
  AWS_SECRET_ACCESS_KEY: 'aws',
  NODE_OPTIONS: '--max-old-space-size=512',
};

describe('an agent environment', () => {
  test('a minimal base from the worker, then inherit_env, the plan, secrets and markers', () => {
    const env = buildAgentEnv({
      workerEnv,
      inherit: ['NODE_OPTIONS', 'NOT_SET'],
      planEnv: { AGENT_ID: 'a', PATH: '/job/bin', GREETING: 'hi' },
      secrets: { API_KEY: 'sk-1' },
      markers: { A2A_DEPLOY_AGENT: 'j/a' },
    });
    expect(env).toEqual({
      ...base,
      PATH: '/job/bin',
      NODE_OPTIONS: '--max-old-space-size=512',
      AGENT_ID: 'a',
      GREETING: 'hi',
      API_KEY: 'sk-1',
      A2A_DEPLOY_AGENT: 'j/a',
    });
  });
});

test('a container gets no base from the worker: its image has its own PATH and HOME; inherit_env still crosses', () => {
  expect(buildAgentEnv({ base: false, workerEnv, inherit: ['TZ'], planEnv: { AGENT_ID: 'a' }, secrets: { K: 'v' } })).toEqual({
    TZ: 'UTC',
    AGENT_ID: 'a',
    K: 'v',
  });
});

describe('secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  writeFileSync(join(dir, 'token'), 'file-value\n\n');
  writeFileSync(join(dir, 'plain'), 'no-newline');

  test('file: strips one trailing newline; env: reads the worker variable', () => {
    expect(
      resolveSecrets('a', { T: `file:${join(dir, 'token')}`, P: `file:${join(dir, 'plain')}`, E: 'env:TEMPORAL_API_KEY' }, workerEnv),
    ).toEqual({ T: 'file-value\n', P: 'no-newline', E: 'worker-credential' });
  });

  test('a missing file or variable fails at once, naming the agent and the reference, never a value', () => {
    const fail = (refs: Record<string, string>) => {
      try {
        resolveSecretsOrFail('weather', refs, workerEnv);
      } catch (err) {
        return err as ApplicationFailure;
      }
      throw new Error('no failure');
    };
    const missingVar = fail({ API_KEY: 'env:WEATHER_KEY' });
    expect(missingVar.nonRetryable).toBe(true);
    expect(missingVar.type).toBe('SecretError');
    expect(missingVar.message).toBe("secret API_KEY of agent 'weather' (env:WEATHER_KEY): the worker has no variable WEATHER_KEY");
    expect(fail({ K: `file:${join(dir, 'nope')}` }).message).toBe(
      `secret K of agent 'weather' (file:${join(dir, 'nope')}): cannot read ${join(dir, 'nope')} (ENOENT)`,
    );
  });

  test('scrub hides every value, the longest first; unreadable references hide nothing', () => {
    const values = secretValues('a', { A: 'env:TEMPORAL_API_KEY', B: 'env:MISSING', C: `file:${join(dir, 'plain')}` }, workerEnv);
    expect(values).toEqual(['worker-credential', 'no-newline']);
    expect(scrub('Error: bad key worker-credential (no-newline) worker', [...values, 'worker'])).toBe(
      `Error: bad key ${REDACTED} (${REDACTED}) ${REDACTED}`,
    );
    expect(scrub('nothing here', [''])).toBe('nothing here');
    process.env.AGENT_ENV_TEST_SECRET = 'log-secret-1';
    const chunk = { stdout: 'key log-secret-1\n', stderr: 'ok', offsets: { stdout: 17, stderr: 2 } };
    expect(scrubLogs(chunk, { id: 'a', deployment: { secrets: { K: 'env:AGENT_ENV_TEST_SECRET' } } })).toEqual({
      ...chunk,
      stdout: `key ${REDACTED}\n`,
    });
    delete process.env.AGENT_ENV_TEST_SECRET;
  });

  test('the plan holds the references only, file: made absolute against the job file folder', () => {
    const text = `job: { name: j }
agents:
  - id: a
    module: ./a.js
    config: { port: 19001 }
    deployment:
      secrets: { API_KEY: "file:./keys/api", TOKEN: "env:TOKEN" }
      inherit_env: [NODE_OPTIONS]
  - id: b
    module: ./a.js
    config: { port: 19002 }
    deployment:
      environment: { API_KEY: x }
      secrets: { API_KEY: "vault:x" }
topology: { type: mesh, agents: [a, b] }
`;
    const ds = loadJobText('/jobs/s.yaml', text).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
    expect(ds).toEqual([
      "14:18 API_KEY is both a secret and an environment value of agent 'b'",
      "14:27 a secret is 'file:PATH' or 'env:NAME' (a variable of the worker that runs the agent)",
    ]);
    // A remote agent takes secrets and inherit_env too; its file: references stay as written
    // (read on the host, relative to its workdir there).
    const remoteText =
      text.split('  - id: b')[0].replace('    deployment:\n', '    deployment:\n      target: remote\n      host: h1\n') +
      'topology: { type: mesh, agents: [a] }\n';
    const remote = loadJobText('/jobs/r.yaml', remoteText);
    expect(remote.diagnostics).toEqual([]);
    expect(resolvePlan(remote.job!, '/jobs/r.yaml').agents.a.deployment).toMatchObject({
      secrets: { API_KEY: 'file:./keys/api', TOKEN: 'env:TOKEN' },
      inheritEnv: ['NODE_OPTIONS'],
    });
    const ok = loadJobText('/jobs/s.yaml', text.split('  - id: b')[0] + 'topology: { type: mesh, agents: [a] }\n');
    const a = resolvePlan(ok.job!, '/jobs/s.yaml').agents.a;
    expect(a.deployment.secrets).toEqual({ API_KEY: 'file:/jobs/keys/api', TOKEN: 'env:TOKEN' });
    expect(a.deployment.inheritEnv).toEqual(['NODE_OPTIONS']);
    expect(JSON.stringify(a.env)).not.toContain('API_KEY');
  });
});
