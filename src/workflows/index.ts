// Workflow bundle entry: every workflow the worker registers.
export { deployJob } from './deploy-job';
export { agentLogs, agentLogsSession } from './agent-logs';
