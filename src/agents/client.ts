// The A2A client, for agents written against the package path a2a-deploy/agents/client. It lives
// in src/a2a/ because the API uses it too, and the API must not depend on the example agents.
export * from '../a2a/client';
