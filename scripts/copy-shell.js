#!/usr/bin/env node
// Copies the shell files under src/ (the scripts the SSH runner sends, src/activities/ssh/sh/)
// beside their compiled modules in dist/, which read them from there at run time (tsc copies
// only TypeScript). Part of `npm run build`.
'use strict';
const { cpSync, readdirSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const src = join(root, 'src');
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.sh')) continue;
  const from = join(entry.parentPath ?? entry.path, entry.name);
  const to = join(root, 'dist', relative(src, from));
  cpSync(from, to);
}
