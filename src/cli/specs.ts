// Every command's arguments, options and summary, declared once: the parser, `--help` (global
// and per command) and the README check (test/unit/cli-specs.test.ts) are all built from this.
// Pure data, so `a2a-deploy --help` never loads a command or the Temporal SDK.
import { JOB_PHASES, PRIORITIES, TOPOLOGY_TYPES } from '../config/names';

export type OptionKind = 'boolean' | 'string' | 'integer' | 'duration' | 'choice';

export interface OptionSpec {
  kind: OptionKind;
  /** the value's placeholder in usage lines, e.g. N (not for booleans) */
  value?: string;
  short?: string;
  help: string;
  /** integer: the accepted range */
  min?: number;
  max?: number;
  /** duration: the longest accepted, in milliseconds */
  maxMs?: number;
  /** string: a name with the job file's rule for names */
  names?: 'agent' | 'worker';
  /** choice: the accepted values */
  choices?: readonly string[];
  /** string: may be given several times (the values arrive as a list, in order) */
  multiple?: boolean;
}

export interface CommandSpec {
  /** positionals as shown in usage: NAME is required, [NAME] optional, NAME... one or more */
  args: string;
  summary: string;
  options: Readonly<Record<string, OptionSpec>>;
  /** options that cannot be given together */
  exclusive?: readonly (readonly string[])[];
}

const json = { kind: 'boolean', help: 'print JSON for scripts' } as const;
const detach = { kind: 'boolean', help: 'start it in the background and return' } as const;
const stopBg = { kind: 'boolean', help: 'stop the background one started with --detach' } as const;
const envFile = {
  kind: 'string',
  value: 'FILE',
  multiple: true,
  help: 'KEY=VALUE lines for ${NAME} in the job file (repeatable; the environment wins over files, later files over earlier ones)',
} as const;

/** Longest message `send` accepts: an A2A message is for a prompt, not a file upload. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Most lines `logs --tail` prints per stream (at most the last 1 MiB of each file is read). */
export const MAX_TAIL_LINES = 10_000;

export const COMMAND_SPECS = {
  validate: {
    args: 'FILE...',
    summary: 'check job files; every error as FILE:LINE:COL with a hint',
    options: { json, 'env-file': envFile },
  },
  plan: {
    args: 'FILE',
    summary: "show stages, each agent's target, URL and calls",
    options: {
      json: { kind: 'boolean', help: 'print JSON (same as --format json)' },
      format: { kind: 'choice', value: 'FORMAT', choices: ['table', 'json', 'mermaid'], help: 'table (default), json or mermaid' },
      'env-file': envFile,
    },
    exclusive: [['json', 'format']],
  },
  start: {
    args: 'FILE',
    summary: 'deploy a job (or roll out a changed file) and show progress until healthy',
    options: { detach: { kind: 'boolean', help: 'submit and return without waiting' }, json, 'env-file': envFile },
  },
  status: { args: 'JOB', summary: 'phase and per-agent state, restarts and last error', options: { json } },
  list: {
    args: '',
    summary: 'running jobs',
    options: {
      all: { kind: 'boolean', help: 'finished jobs too' },
      phase: {
        kind: 'choice',
        value: 'PHASE',
        choices: JOB_PHASES,
        help: 'only jobs in this phase',
      },
      topology: { kind: 'choice', value: 'TOPOLOGY', choices: TOPOLOGY_TYPES, help: 'only jobs of this topology' },
      priority: { kind: 'choice', value: 'PRIORITY', choices: PRIORITIES, help: 'only jobs of this priority' },
      prefix: { kind: 'string', value: 'TEXT', help: 'only jobs whose name starts with TEXT' },
      paused: { kind: 'boolean', help: 'only paused jobs' },
      json,
    },
  },
  send: {
    args: 'JOB MESSAGE',
    summary: `send an A2A message (at most ${MAX_MESSAGE_BYTES / 1024} KiB) to the job's entry agent (any A2A agent, v1.0 or v0.3) and print the reply`,
    options: {
      agent: { kind: 'string', names: 'agent', value: 'ID', help: 'send to this agent instead of the entry agent' },
      stream: {
        kind: 'boolean',
        help: 'stream the reply (message/stream): status updates and artifacts print as they arrive; an agent that does not stream gets a blocking send and a note',
      },
      timeout: {
        kind: 'duration',
        value: 'DURATION',
        maxMs: 3_600_000,
        help: 'how long to wait for the reply: 30s (default), 500ms, 2m, at most 1h; a bare number is seconds',
      },
      json,
    },
  },
  logs: {
    args: 'JOB [AGENT]',
    summary: 'agent stdout/stderr, from log files when no worker runs',
    options: {
      tail: {
        kind: 'integer',
        value: 'N',
        min: 0,
        max: MAX_TAIL_LINES,
        help: `last N lines per stream (default 50, at most ${MAX_TAIL_LINES}, from the last 1 MiB of each file)`,
      },
      follow: { kind: 'boolean', short: 'f', help: 'keep printing new output until Ctrl-C' },
    },
  },
  pause: { args: 'JOB', summary: 'start nothing new and suspend restarts', options: { json } },
  resume: { args: 'JOB', summary: 'undo pause', options: { json } },
  stop: {
    args: 'JOB',
    summary: 'tear a job down, callers before callees, and wait until all is down',
    options: { force: { kind: 'boolean', help: 'kill at once instead of SIGTERM and stop_grace' }, json },
  },
  restart: {
    args: 'JOB [AGENT...]',
    summary: 'restart agents (none named: all) through the health gate, callees first; e.g. after rotating a secret',
    options: { json },
  },
  diff: { args: 'FILE', summary: 'what `start FILE` would change in the running job', options: { json, 'env-file': envFile } },
  delete: {
    args: 'JOB',
    summary: "remove a finished job's runs from Temporal (refused, with the reason, while it runs); then the job is unknown",
    options: { json },
  },
  prune: {
    args: '',
    summary: 'remove the finished jobs whose last run ended longer ago than --older-than (running jobs are never touched)',
    options: {
      'older-than': {
        kind: 'duration',
        value: 'DURATION',
        help: 'required: 7d, 12h, 30m, ... (the server itself removes them after A2A_DEPLOY_RETENTION)',
      },
      'dry-run': { kind: 'boolean', help: 'only say which jobs would be removed' },
      json,
    },
  },
  gc: {
    args: '',
    summary: 'remove agents on this machine whose job is gone',
    options: { 'dry-run': { kind: 'boolean', help: 'only say what would be removed' }, json },
  },
  'codec-server': {
    args: '',
    summary: "serve Temporal's codec-server protocol (POST /encode, /decode) so the Web UI shows encrypted payloads in clear",
    options: {
      port: { kind: 'integer', value: 'N', min: 1, max: 65535, help: 'port to listen on (default 8234, the embedded Web UI port + 1)' },
      host: { kind: 'string', value: 'ADDR', help: 'address to listen on (default 127.0.0.1)' },
      origin: {
        kind: 'string',
        value: 'URL',
        multiple: true,
        help: "a Web UI origin allowed by CORS (repeatable; default the configured Web UI's); token: A2A_DEPLOY_CODEC_TOKEN",
      },
    },
  },
  server: { args: '', summary: 'run the embedded Temporal dev server', options: { detach, stop: stopBg }, exclusive: [['detach', 'stop']] },
  worker: {
    args: '',
    summary: 'run a worker in the foreground',
    options: {
      host: { kind: 'string', names: 'worker', value: 'NAME', help: 'a host worker: runs the agents of deployment.worker NAME' },
      metrics: {
        kind: 'string',
        value: 'ADDR:PORT|off',
        help: 'where /metrics is served (default 127.0.0.1:9464, a host worker 127.0.0.1:9465; or A2A_DEPLOY_METRICS)',
      },
      'log-format': { kind: 'choice', value: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json: one object per line' },
      'collect-every': {
        kind: 'string',
        value: 'DURATION|off',
        help: 'how often to remove the agents on this machine whose job is over, e.g. terminated (default 30s; or A2A_DEPLOY_COLLECT_EVERY)',
      },
      detach,
      stop: stopBg,
    },
    exclusive: [['detach', 'stop']],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMAND_SPECS;
