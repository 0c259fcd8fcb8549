// `worker --log-format json`: one JSON object per line, with the job and agent a line is about.
// The SDK passes workflow and activity context as metadata; the job comes from the workflow id,
// the agent from the workflow's own metadata or the activity's input (see log-context.ts).
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { jobFromWorkflowId } from '../workflows/api';

const ORDER: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
/** SDK bookkeeping that a reader of the job's log does not need on every line. */
const DROPPED = new Set([
  'sdkComponent',
  'namespace',
  'taskQueue',
  'runId',
  'workflowType',
  'activityId',
  'workflowRunId',
  'workflowNamespace',
  'activityType',
  'workflowId',
  'isLocal',
  'attempt',
  'job',
  'agent',
]);

export class JsonLogger implements Logger {
  constructor(
    private readonly minLevel: LogLevel = 'INFO',
    private readonly write: (line: string) => void = (l) => process.stdout.write(l),
  ) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    if (ORDER[level] < ORDER[this.minLevel]) return;
    this.write(formatJsonLine(level, message, meta) + '\n');
  }
  trace(message: string, meta?: LogMetadata) {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata) {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata) {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata) {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata) {
    this.log('ERROR', message, meta);
  }
}

export function formatJsonLine(level: LogLevel, message: string, meta: LogMetadata): string {
  const workflowId = typeof meta.workflowId === 'string' ? meta.workflowId : undefined;
  const job = typeof meta.job === 'string' ? meta.job : workflowId?.startsWith('a2a-job-') ? jobFromWorkflowId(workflowId) : undefined;
  const line: Record<string, unknown> = {
    time: new Date(typeof meta.timestampNanos === 'bigint' ? Number(meta.timestampNanos / 1_000_000n) : Date.now()).toISOString(),
    level: level.toLowerCase(),
    job,
    agent: typeof meta.agent === 'string' ? meta.agent : undefined,
    activity: typeof meta.activityType === 'string' ? meta.activityType : undefined,
    message,
  };
  for (const [k, v] of Object.entries(meta)) {
    if (DROPPED.has(k) || k === 'timestampNanos' || v === undefined) continue;
    // A field the line already has (a workflow logs its error as `message`) keeps both.
    const key = !(k in line) ? k : k === 'message' ? 'detail' : `meta_${k}`;
    line[key] = v;
  }
  // SDK metadata may hold bigints (nanosecond times) and errors at any depth.
  return JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Error ? v.message : v));
}
