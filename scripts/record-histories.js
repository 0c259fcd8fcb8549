#!/usr/bin/env node
// Records workflow histories from real runs (a dev server, a worker, real agents) into
// test/fixtures/histories/, for the replay test that keeps workflow code deterministic.
// Re-record after an intended, versioned change to the workflow: node scripts/record-histories.js
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client, Connection } = require('@temporalio/client');
const { startDevServerDetached, stopDevServer, temporalBinary } = require('../dist/temporal/dev-server');

const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'test', 'fixtures', 'histories');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const home = mkdtempSync(join(tmpdir(), 'a2a-rec-'));
  const server = await startDevServerDetached({ stateDir: home, port: 27833, uiPort: 28833 });
  const env = { ...process.env, A2A_DEPLOY_HOME: home, TEMPORAL_ADDRESS: server.address };
  const cli = (...args) => {
    const allowFail = args.includes('--allow-fail');
    args = args.filter((a) => a !== '--allow-fail');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'a2a-deploy.js'), ...args], { env, encoding: 'utf8' });
    if (r.status !== 0 && !allowFail) console.error(`${args.join(' ')} -> ${r.status}\n${r.stderr}`);
    return r;
  };
  const worker = spawn(process.execPath, [join(ROOT, 'bin', 'a2a-deploy.js'), 'worker'], { env, stdio: 'ignore' });
  await sleep(1500);
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const save = async (name, workflowId) => {
    // The Temporal CLI writes histories in the proto-JSON form the replayer reads.
    const r = spawnSync(
      temporalBinary(),
      ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', server.address],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, `${name}.json`), r.stdout);
    console.log(`recorded ${name}: ${JSON.parse(r.stdout).events.length} events`);
  };
  try {
    // 1. deploy, a crash and its restart, pause/resume, a redeploy, a stop
    cli('start', join(ROOT, 'jobs', 'examples', 'simple-weather.yaml'));
    const status = JSON.parse(cli('status', 'simple-weather', '--json').stdout);
    process.kill(status.agents.maps.pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      const s = JSON.parse(cli('status', 'simple-weather', '--json').stdout);
      if (s.agents.maps.state === 'healthy' && s.agents.maps.pid !== status.agents.maps.pid) break;
      await sleep(200);
    }
    cli('pause', 'simple-weather');
    cli('resume', 'simple-weather');
    cli('stop', 'simple-weather');
    await save('lifecycle-simple-weather', 'a2a-job-simple-weather');
    // 2. a failed deploy
    cli('start', join(ROOT, 'test', 'fixtures', 'jobs', 'crashing-agent.yaml'), '--allow-fail');
    await save('failed-deploy', 'a2a-job-crashing');
    // 3. a cancelled job (the Web UI's cancel)
    cli('start', join(ROOT, 'jobs', 'examples', 'pipeline.yaml'));
    const h = client.workflow.getHandle('a2a-job-pipeline');
    await h.cancel();
    await h.result().catch(() => undefined);
    await save('cancelled-pipeline', 'a2a-job-pipeline');
  } finally {
    worker.kill('SIGTERM');
    await client.connection.close();
    await stopDevServer(home);
    rmSync(home, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
