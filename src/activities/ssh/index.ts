// The SSH (remote) runner and its parts: quoting, endpoints, host keys, credentials, the
// connection pool, the remote scripts, and the runner that drives them.
export { createSshRunner, type SshRunnerDeps } from './runner';
export { SshPool } from './pool';
export { shellQuote } from './quoting';
