// Authentication: a key file (unencrypted), the SSH agent, or the default identities, as ssh
// itself would choose.
import { ApplicationFailure } from '@temporalio/activity';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { utils as sshUtils, type ConnectConfig } from 'ssh2';
import type { DeploymentPlan } from '../../job/plan';
import { localPath } from './quoting';

export interface Credentials {
  config: Pick<ConnectConfig, 'privateKey' | 'agent'>;
  /** for messages and the pool key */
  describe: string;
}

function usableKey(file: string): Buffer | Error {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    return e as Error;
  }
  const parsed = sshUtils.parseKey(data);
  return parsed instanceof Error ? parsed : data;
}

export function credentials(d: DeploymentPlan, baseDir: string): Credentials {
  if (d.sshKey) {
    const file = localPath(d.sshKey, baseDir);
    const key = usableKey(file);
    if (key instanceof Error) {
      throw ApplicationFailure.nonRetryable(
        `ssh key ${file} cannot be used: ${key.message}` +
          (/passphrase|encrypted/i.test(key.message)
            ? ' (use an unencrypted deploy key, or leave ssh_key out to use the SSH agent via SSH_AUTH_SOCK)'
            : ''),
        'SshKeyError',
      );
    }
    return { config: { privateKey: key }, describe: `key ${file}` };
  }
  if (process.env.SSH_AUTH_SOCK)
    return { config: { agent: process.env.SSH_AUTH_SOCK }, describe: `the SSH agent (${process.env.SSH_AUTH_SOCK})` };
  // Like ssh itself: fall back to the default identities when there is no agent.
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const file = join(homedir(), '.ssh', name);
    if (!existsSync(file)) continue;
    const key = usableKey(file);
    if (!(key instanceof Error)) return { config: { privateKey: key }, describe: `key ${file}` };
  }
  throw ApplicationFailure.nonRetryable(
    'no SSH credentials: set deployment.ssh_key, or run the worker with an SSH agent (SSH_AUTH_SOCK), or give it an unencrypted ~/.ssh/id_ed25519',
    'SshKeyError',
  );
}
