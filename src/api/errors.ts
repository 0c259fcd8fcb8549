// The errors the TypeScript API throws (exported from the package's index). They are defined in
// src/common/errors.ts, below every layer, so the Temporal layer and the runners can throw them too.
export * from '../common/errors';
