// A2A reply readers, for agents written against the package path a2a-deploy/agents/parts. They
// live in src/a2a/ because the API uses them too, and the API must not depend on the example agents.
export * from '../a2a/parts';
