#!/usr/bin/env -S node --
'use strict';
// Thin launcher: the CLI is compiled from src/cli into dist/cli by `npm ci` (prepare).
// The `--` in the line above ends Node's own options: Node 20 otherwise reads `--env-file FILE`
// anywhere on its command line, even after this script, loads FILE before the CLI starts and
// obeys a NODE_OPTIONS in it (e.g. --require of any file). With `--`, the flag reaches the CLI
// alone, which reads FILE for ${NAME} in job files only. Run by hand as `node -- bin/a2a-deploy.js`.
require('../dist/cli/main.js').main(process.argv.slice(2));
