// A container's resource use, from one call of Docker's stats (one-shot: no second sample, so it
// answers at once), in the same shape as a cgroup's (process/cgroups.ts Usage).
import type Docker from 'dockerode';
import type { Usage } from '../../process/cgroups';

/** The usage in a stats answer (pure: unit-tested); the page cache is left out, as `docker stats` does. */
export function usageOfStats(s: Docker.ContainerStats): Usage {
  const m = s.memory_stats ?? {};
  const stats = (m.stats ?? {}) as Record<string, number | undefined>;
  const cache = stats.inactive_file ?? stats.total_inactive_file ?? stats.cache ?? 0;
  const cpu = s.cpu_stats ?? {};
  const out: Usage = { mechanism: 'docker' };
  if (typeof m.usage === 'number') out.memoryBytes = Math.max(0, m.usage - cache);
  if (typeof m.max_usage === 'number' && m.max_usage > 0) out.memoryPeakBytes = m.max_usage;
  if (typeof m.limit === 'number' && m.limit > 0 && m.limit < 2 ** 62) out.memoryLimitBytes = m.limit;
  if (typeof cpu.cpu_usage?.total_usage === 'number') out.cpuSeconds = cpu.cpu_usage.total_usage / 1e9;
  if (typeof cpu.throttling_data?.throttled_periods === 'number') out.throttledPeriods = cpu.throttling_data.throttled_periods;
  if (typeof cpu.throttling_data?.throttled_time === 'number') out.throttledSeconds = cpu.throttling_data.throttled_time / 1e9;
  if (typeof s.pids_stats?.current === 'number') out.pids = s.pids_stats.current;
  return out;
}

/** One read of a container's usage; undefined when it is gone or Docker does not answer. */
export async function containerUsage(docker: Docker, ref: string): Promise<Usage | undefined> {
  try {
    return usageOfStats(await docker.getContainer(ref).stats({ stream: false, 'one-shot': true }));
  } catch {
    return undefined;
  }
}
