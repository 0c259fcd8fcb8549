// Lets node run the benchmark's TypeScript in place: `node -r ./bench/register.js bench/run.ts`.
// Each .ts file is transpiled by @swc/core (already a dev dependency, as jest's transformer) when
// it is first required. In place, not into a build folder, so __dirname-relative paths (the repo
// root, bin/a2a-deploy.js, .tools/) stay right in the shared harness and in src/. Types are
// checked by `npm run typecheck`, not here.
'use strict';
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

const options = (filename) => ({
  filename,
  swcrc: false,
  sourceMaps: 'inline',
  module: { type: 'commonjs' },
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
});

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), options(filename));
  module._compile(code, filename);
};
process.setSourceMapsEnabled(true);
