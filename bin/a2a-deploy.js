#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled from src/cli into dist/cli by `npm ci` (prepare).
require('../dist/cli/main.js').main(process.argv.slice(2));
