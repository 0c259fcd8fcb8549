// Three projects: fast pure-logic unit tests; workflow tests (the real workflow code on Temporal's
// time-skipping test server, with fake agents); and integration tests that drive real Temporal
// dev servers, workers and agent processes (run one file at a time). A fourth, production (a real
// Temporal cluster on PostgreSQL with mutual TLS), only with A2A_PRODUCTION_TESTS set:
// `npm run test:production`, not `npm test`.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], transform, testEnvironment: 'node' },
    { displayName: 'workflow', testMatch: ['<rootDir>/test/workflow/**/*.test.ts'], transform, testEnvironment: 'node' },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
    },
    // The scale smoke (a 201-agent job and 20 jobs of 10 at once): `npm run test:scale`, which CI
    // runs after `npm test` (it needs the machine to itself for a few minutes).
    ...(process.env.A2A_SCALE_TESTS
      ? [{ displayName: 'scale', testMatch: ['<rootDir>/test/scale/**/*.test.ts'], transform, testEnvironment: 'node' }]
      : []),
    ...(process.env.A2A_PRODUCTION_TESTS
      ? [{ displayName: 'production', testMatch: ['<rootDir>/test/production/**/*.test.ts'], transform, testEnvironment: 'node' }]
      : []),
  ],
};
