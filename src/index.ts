// a2a-deploy as a library: `import { JobManager } from 'a2a-deploy'`. The JobManager and the
// types of what it takes and returns; the CLI is a thin layer over the same code.
export { JobManager, type LoadOptions } from './api/job-manager';
export type { JobManagerOptions } from './api/options';
export {
  A2ADeployError,
  InvalidInputError,
  JobFailedError,
  NoWorkerError,
  NotFoundError,
  RefusedError,
  TemporalUnreachableError,
  type InputLocation,
} from './api/errors';
export type { JobInput, ValidationResult, VarsOptions } from './api/load';
export type { StartOptions, StartProgress, StartResult } from './api/deploy';
export type { EndedView, JobReport } from './api/status';
export type { ServerView, MemoAgent } from './api/jobs';
export type { JobSummary, ListFilter } from './api/list';
export type { Leftovers, SendOptions, SendResult, StopOptions, StopResult } from './api/control';
export type { LogLine, LogOptions, LogStream } from './api/logs';
export type { DeleteResult, PruneResult } from './api/retention';
export type { Diagnostic } from './job/diagnostics';
export type { AgentPlan, DeployPlan } from './job/plan';
export type { PlanDiff } from './job/diff';
export type { TemporalConfig } from './temporal/connection';
export type { TlsSettings } from './temporal/tls-config';
export type { AgentState, AgentStatus, JobPhase, JobStatus, RedeployResult, RefusedRequest, RestartResult } from './workflows/api';
