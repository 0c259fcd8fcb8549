// What an agent's pods say: why they cannot run (in Kubernetes' own words), their logs, and
// waiting for them to be gone. Reads only; one list call per question.
import { lastLines, STDERR_LINES } from '../../common/text-tail';
import type { KubeApi } from './api';

export interface Pod {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      ready: boolean;
      restartCount: number;
      state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: { reason?: string; exitCode?: number } };
      lastState?: { terminated?: { reason?: string; exitCode?: number } };
    }[];
  };
}

/** Waiting reasons that do not pass by themselves: the deploy fails with them at once. */
const STUCK = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export async function listPods(api: KubeApi, namespace: string, selector: string): Promise<Pod[]> {
  const r = await api.call<{ items: Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
  return r.body.items;
}

export const isReady = (p: Pod) =>
  !p.metadata.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Why the pods cannot run, as Kubernetes says it (Unschedulable, ImagePullBackOff, CrashLoopBackOff after OOMKilled...), or undefined. */
export function podTrouble(pods: Pod[]): string | undefined {
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const unsched = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
    if (unsched) return `pod ${p.metadata.name} is Unschedulable: ${unsched.message ?? ''}`.trim();
    for (const c of p.status?.containerStatuses ?? []) {
      const w = c.state?.waiting;
      if (w?.reason && STUCK.has(w.reason)) {
        const last = c.lastState?.terminated;
        const before = last ? ` (last exit: ${last.reason ?? 'terminated'}, code ${last.exitCode ?? '?'}; ${c.restartCount} restarts)` : '';
        return `pod ${p.metadata.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}${before}`;
      }
    }
  }
  return undefined;
}

export const restartsOf = (pods: Pod[]) =>
  pods.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + c.restartCount, 0), 0);

/** A pod's log (the agent container's; `previous`: the one before its last restart). */
export async function podLog(
  api: KubeApi,
  namespace: string,
  pod: string,
  opts: { tail?: number; previous?: boolean } = {},
): Promise<string> {
  const q = new URLSearchParams({ container: 'agent', limitBytes: String(8 << 20) });
  if (opts.tail !== undefined) q.set('tailLines', String(opts.tail));
  if (opts.previous) q.set('previous', 'true');
  const r = await api.call('GET', `/api/v1/namespaces/${namespace}/pods/${pod}/log?${q}`, undefined, { ok: [400, 404] });
  return r.status === 200 ? r.text : '';
}

/** The last log lines of the pod most likely to tell why (one that restarted: its previous run). */
export async function troubleTail(api: KubeApi, namespace: string, pods: Pod[]): Promise<string> {
  const p = [...pods].sort((a, b) => restartsOf([b]) - restartsOf([a]))[0];
  if (!p) return '';
  const restarted = restartsOf([p]) > 0 && !p.status?.containerStatuses?.[0]?.state?.running;
  const text = await podLog(api, namespace, p.metadata.name, { tail: STDERR_LINES, previous: restarted });
  return lastLines(text, STDERR_LINES);
}
