// Where an SSH deployment connects: host, port and user, and how the host is named in
// messages and in known_hosts.
import { ApplicationFailure } from '@temporalio/activity';
import { userInfo } from 'node:os';
import { joinHostPort, unbracketHost } from '../../common/host';
import type { DeploymentPlan } from '../../job/plan';

export interface Endpoint {
  host: string;
  port: number;
  user: string;
  /** "host:port" for messages */
  label: string;
  /** how OpenSSH names the host in known_hosts: `host` on port 22, `[host]:port` otherwise */
  knownHostsName: string;
}

export function endpointOf(d: DeploymentPlan): Endpoint {
  if (!d.host) throw ApplicationFailure.nonRetryable('a remote agent needs deployment.host', 'AgentSpecError');
  const host = unbracketHost(d.host);
  const port = d.sshPort ?? 22;
  const user = d.user ?? currentUser();
  return {
    host,
    port,
    user,
    label: joinHostPort(host, port),
    knownHostsName: port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`,
  };
}

/** "user@host:port": agents on one host share its connection and its liveness round. */
export const hostKey = (ep: Endpoint) => `${ep.user}@${ep.label}`;

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}
