// Images: the pull policy (always | if-not-present | never), and a clear error when an image
// cannot be had.
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { AgentPlan } from '../../job/plan';
import { activityContext, heartbeat } from '../context';
import { engineMessage, rethrow, statusOf, type EngineError } from './engine';

const missingImage = (image: string, agent: AgentPlan, why: string) =>
  ApplicationFailure.nonRetryable(
    `image '${image}' of agent '${agent.id}' is not on this Docker engine and ${why}; ` +
      `build or load it on the worker's machine (docker image ls; docker load / docker import; ` +
      `for the example agents: scripts/build-agent-image.sh ${image}), or set pull: if-not-present / always with a reachable registry`,
    'ImageNotFound',
  );

async function imageExists(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    rethrow(e, `inspecting image ${image}`);
  }
}

/** Pulls an image; resolves with the error message when the pull failed. */
async function pull(docker: Docker, image: string): Promise<string | undefined> {
  try {
    const stream = await docker.pull(image);
    // Errors after the pull started arrive as progress events, not as a rejected call.
    await new Promise<void>((done, fail) =>
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? fail(err) : done()),
        () => heartbeat(),
      ),
    );
    return undefined;
  } catch (e) {
    const code = (e as EngineError)?.code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') rethrow(e, `pulling ${image}`);
    return engineMessage(e);
  }
}

/** Applies the pull policy; fails without retries when the image cannot be had. */
export async function ensureImage(docker: Docker, agent: AgentPlan, image: string): Promise<void> {
  const policy = agent.deployment.pull;
  if (policy === 'never') {
    if (!(await imageExists(docker, image))) throw missingImage(image, agent, 'pull is never');
    return;
  }
  if (policy === 'if-not-present' && (await imageExists(docker, image))) return;
  const failed = await pull(docker, image);
  if (!failed) return;
  // `always` with an unreachable registry still runs a local copy: an offline engine keeps
  // deploying what it has, and a registry that is down is not a reason to stop a redeploy.
  if (policy === 'always' && (await imageExists(docker, image))) {
    activityContext()?.log.warn(`pulling ${image} failed (${failed}); using the local copy`);
    return;
  }
  throw missingImage(image, agent, `pulling it failed: ${failed}`);
}
