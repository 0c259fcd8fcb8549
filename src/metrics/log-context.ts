// Puts the job and agent an activity works on into every log line the activity writes: the
// activity interceptor reads them from the activity's input (AgentRef, StopOptions, LogRequest,
// WatchOptions all carry `job`; most carry `agent`, a watch of one agent its id).
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

interface JobAndAgent {
  job?: string;
  agent?: string;
}

export function jobAndAgentOf(arg: unknown): JobAndAgent {
  if (!arg || typeof arg !== 'object') return {};
  const a = arg as { job?: unknown; agent?: { id?: unknown }; agents?: { id?: unknown }[] };
  const out: JobAndAgent = {};
  if (typeof a.job === 'string') out.job = a.job;
  const id = a.agent?.id ?? (a.agents?.length === 1 ? a.agents[0].id : undefined);
  if (typeof id === 'string') out.agent = id;
  return out;
}

export const logContextInterceptor: ActivityInterceptorsFactory = () => {
  let context: JobAndAgent = {};
  return {
    inbound: {
      execute(input, next) {
        context = jobAndAgentOf(input.args[0]);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(attrs, next) {
        return next({ ...attrs, ...context });
      },
    },
  };
};
