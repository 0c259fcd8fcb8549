#!/usr/bin/env node
// Bundles the workflow code once at build time, so a worker starts in well under a second
// instead of running webpack at every start (it matters when workers restart after a crash).
'use strict';
const { bundleWorkflowCode } = require('@temporalio/worker');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

(async () => {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve(join(__dirname, '..', 'dist', 'workflows')),
    // Failures encoded through the payload codec, as in the worker (src/temporal/failure-converter.ts).
    failureConverterPath: require.resolve(join(__dirname, '..', 'dist', 'temporal', 'failure-converter')),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} },
  });
  writeFileSync(join(__dirname, '..', 'dist', 'workflow-bundle.js'), code);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
