// The remote shell scripts, as text: the functions of sh/lib.sh (fixed text that shellcheck
// reads), then one call per step, every value from the job entering through shellQuote (or
// remotePath) once, as an argument. Pure functions, so they are unit-tested without an sshd.
import { ApplicationFailure } from '@temporalio/activity';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentPlan } from '../../job/plan';
import { MARKER, markerOf, SERVER, SPEC } from '../markers';
import { remotePath, shellQuote } from './quoting';
import { cgroupRoot, hasLimits, leafName, serverKey, USAGE_FILES, usageFrom, type Usage } from '../../process/cgroups';
import { limitsOf } from '../limits';

/** Where an agent's groups are on its host: the cgroup root (A2A_CGROUP_ROOT on the worker, a test hook), the server's key, job.agent. */
export const remoteGroup = (server: string, job: string, agent: string) => ({
  root: cgroupRoot(),
  key: serverKey(server),
  leaf: leafName(job, agent),
});

/** sh that makes the agent's groups with its limits on the host (sh/lib.sh a2a_cgroup); none without limits. */
export function cgroupStep(server: string, job: string, agent: AgentPlan): string {
  const l = limitsOf(agent.deployment);
  if (!hasLimits(l)) return '';
  const g = remoteGroup(server, job, agent.id);
  const word = (n: number | undefined) => (n === undefined ? '-' : String(Math.floor(n)));
  const quota = l.cpus === undefined ? undefined : Math.max(1000, Math.round(l.cpus * 100_000));
  return `a2a_cgroup ${shellQuote(g.root)} ${shellQuote(g.key)} ${shellQuote(g.leaf)} ${word(l.memoryBytes)} ${word(quota)} ${word(l.pids)}`;
}

/** Prints the agent's usage files on the host (sh/lib.sh a2a_cg_usage), for parseUsage. */
export function usageScript(server: string, job: string, agentId: string): string {
  const g = remoteGroup(server, job, agentId);
  const specs = ([1, 2] as const).flatMap((v) => USAGE_FILES[v].map(([c, f]) => `${v}:${c}:${f}`));
  return `a2a_cg_usage ${shellQuote(g.root)} ${shellQuote(g.key)} ${shellQuote(g.leaf)} ${specs.map(shellQuote).join(' ')}`;
}

/** The usage in what usageScript printed; undefined when the agent has no groups there. */
export function parseUsage(out: string): Usage | undefined {
  const version = Number(lines(out, 'A2A-DEPLOY-CGV')[0]);
  if (version !== 1 && version !== 2) return undefined;
  const files = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const l of out.split('\n')) {
    if (l.startsWith('A2A-DEPLOY-CG ')) files.set(l.slice('A2A-DEPLOY-CG '.length), (current = []));
    else if (l.startsWith('A2A-DEPLOY-CGL ') && current) current.push(l.slice('A2A-DEPLOY-CGL '.length));
  }
  return usageFrom(version, (c, f) => files.get(`${c} ${f}`)?.join('\n'));
}

/** Removes the agent's groups on the host, with whatever still runs in them. */
export function cgroupRemoveScript(server: string, job: string, agentId: string): string {
  const g = remoteGroup(server, job, agentId);
  return `a2a_cgroup_remove ${shellQuote(g.root)} ${shellQuote(g.key)} ${shellQuote(g.leaf)}`;
}

/** Every script prints this first, so whatever a login shell's rc files print is skipped. */
export const BEGIN = 'A2A-DEPLOY-BEGIN';

/** A shell file of sh/ as it is sent: without its comment lines (they are for shellcheck and readers). */
const shFile = (name: string) =>
  readFileSync(join(__dirname, 'sh', name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .join('\n');

/** The functions every script calls (sh/lib.sh), after the marker names they read. */
export const PRELUDE = [`a2a_MARKER=${MARKER} a2a_SPEC=${SPEC} a2a_SERVER=${SERVER}`, shFile('lib.sh')].join('\n');

/** The agent's group leader (sh/agent-wrapper.sh), run as `sh -c WRAPPER a2a-agent EXIT_FILE ARGV...`. */
export const WRAPPER = shFile('agent-wrapper.sh');

/** The text fed to `/bin/sh -s`. Braces: sh parses the whole script before running any of it,
 *  so a cut-off script does nothing at all, and nothing that runs can read the script from stdin. */
export const wrapScript = (body: string) => `{\necho ${BEGIN}\n${PRELUDE}\n${body}\n}\n`;

/** What a script printed after BEGIN; undefined when BEGIN never came (the shell failed). */
export function afterBegin(text: string): string | undefined {
  const at = text.indexOf(`${BEGIN}\n`);
  return at >= 0 ? text.slice(at + BEGIN.length + 1) : undefined;
}

/** Lines `KEY rest…` that a script printed, by key. */
export function lines(out: string, key: string): string[] {
  return out
    .split('\n')
    .filter((l) => l === key || l.startsWith(`${key} `))
    .map((l) => l.slice(key.length + 1));
}

/** `cd` into the agent's workdir (default: the login directory) and set D to its state dir. */
export function enterAgentDir(job: string, agent: AgentPlan, create: boolean): string {
  const wd = agent.deployment.workdir ?? '~';
  const dir = `.a2a-deploy/${job}/${agent.id}`;
  return `a2a_enter ${remotePath(wd)} ${shellQuote(wd)} ${shellQuote(dir)}${create ? ' create' : ''}`;
}

/** sh that signals the process groups led by these pids (the agent and its children). */
export const signalScript = (sig: 'TERM' | 'KILL', pids: (number | string)[]) =>
  pids.map((p) => `a2a_signal ${sig} ${shellQuote(String(p))}`).join('\n') + '\n:';

/** The agent's program and argv as shell words, and the sh that resolves a module first. */
export function agentCommand(agent: AgentPlan): { program: string; words: string[]; moduleCheck: string } {
  if (agent.run.command) {
    const [cmd, ...rest] = agent.run.command;
    const program = shellQuote(cmd);
    return { program, words: [program, ...[...rest, ...agent.run.args].map(shellQuote)], moduleCheck: '' };
  }
  const spec = agent.run.module!;
  const program = shellQuote(agent.deployment.node);
  const moduleCheck =
    spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('~')
      ? // A path: relative to the workdir on the host.
        `a2a_module_file ${remotePath(spec)} ${shellQuote(spec)}`
      : // A package specifier (a2a-deploy/agents/weather): node resolves it on the host, from the workdir.
        `a2a_module_resolve ${program} ${shellQuote(spec)}`;
  return { program, words: [program, '"$MOD"', ...agent.run.args.map(shellQuote)], moduleCheck };
}

/**
 * What the start script puts into a remote agent's environment, on top of the host login
 * environment's PATH, HOME, USER, LANG, LC_*, TZ and TMPDIR (nothing else of it survives).
 */
export interface RemoteEnv {
  /** computed on the worker: inherit_env, the plan's environment, the `env:` secrets */
  values: Record<string, string>;
  /** `file:` secrets by variable name: paths read on the host (relative to the workdir, `~/` the home) */
  files: Record<string, string>;
  /** the `env:` secrets' values (also in `values`): kept on the host with the file: ones, to scrub with */
  secrets?: string[];
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads the `file:` secrets into the unexported shell variables a2a_s0, a2a_s1... (sh/lib.sh a2a_read_secret). */
const readSecretFiles = (files: Record<string, string>) =>
  Object.entries(files)
    .map(([name, path], i) => `a2a_read_secret ${i} ${shellQuote(name)} ${remotePath(path)}`)
    .join('\n');

/** The function that exports the agent's environment in the subshell that becomes the agent (sh/lib.sh a2a_launch says why). */
function agentEnvFunction(env: RemoteEnv, markers: Record<string, string>): string {
  return [
    'a2a_agent_env() {',
    ...Object.entries(env.values).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    ...Object.keys(env.files).map((k, i) => `export ${k}="$a2a_s${i}"`),
    ...Object.entries(markers).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    '}',
  ].join('\n');
}

/** One script: look for a running copy (print it); only if there is none, start one. */
export function startScript(job: string, agent: AgentPlan, startedAt: string, server: string, env: RemoteEnv): string {
  const marker = markerOf(job, agent.id);
  const { program, words, moduleCheck } = agentCommand(agent);
  for (const name of [...Object.keys(env.values), ...Object.keys(env.files)]) {
    // The schema allows only such names; checked again because a name is not quoted as a value is.
    if (!VAR_NAME.test(name))
      throw ApplicationFailure.nonRetryable(`invalid environment variable name ${JSON.stringify(name)}`, 'AgentSpecError');
  }
  return [
    enterAgentDir(job, agent, true),
    `echo "A2A-DEPLOY-DIR $D"`,
    // Before anything is found or stopped: a missing secret leaves what runs alone.
    readSecretFiles(env.files),
    `a2a_running ${shellQuote(marker)} ${shellQuote(server)}`,
    `a2a_tools ${program} ${shellQuote(`${agent.run.command?.[0] ?? agent.deployment.node} not found on the host; PATH is`)}`,
    moduleCheck,
    // Its groups last before the launch: a refusal leaves nothing behind but empty groups.
    cgroupStep(server, job, agent),
    `a2a_WRAPPER=${shellQuote(WRAPPER)}`,
    agentEnvFunction(env, { [MARKER]: marker, [SPEC]: agent.specHash, [SERVER]: server }),
    keepGiven(env),
    `a2a_launch ${shellQuote(agent.id)} ${shellQuote(startedAt)} ${shellQuote(agent.specHash)} ${words.join(' ')}`,
  ]
    .filter((l) => l !== '')
    .join('\n');
}

/** Keeps the agent's secret values in its folder on the host (sh/lib.sh a2a_keep_given); none: nothing. */
function keepGiven(env: RemoteEnv): string {
  const count = Object.keys(env.files).length;
  const hex = (env.secrets ?? []).filter((v) => v.length > 0).map((v) => Buffer.from(v, 'utf8').toString('hex'));
  return count + hex.length === 0 ? '' : `a2a_keep_given ${count}${hex.map((h) => ` ${shellQuote(h)}`).join('')}`;
}

/**
 * Prints the values the agent's starts were given (sh/lib.sh a2a_given_hex), then each readable
 * `file:` secret's content now (a2a_secret_hex), all in hex, so the worker can scrub the agent's
 * output of them: what it was given, even after the file changed or went away, and what it holds.
 */
export function secretFilesScript(
  workdir: string | undefined,
  files: Record<string, string>,
  given?: { job: string; agent: string },
): string {
  const wd = workdir ?? '~';
  return [
    given ? `a2a_given_hex ${remotePath(wd)} ${shellQuote(wd)} ${shellQuote(`.a2a-deploy/${given.job}/${given.agent}`)}` : '',
    `cd ${remotePath(wd)} 2>/dev/null || exit 0`,
    ...Object.entries(files).map(([name, path]) => `a2a_secret_hex ${shellQuote(name)} ${remotePath(path)}`),
    ':',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

/** Removes the agent's pid file (quietly). */
export function removePidFileScript(job: string, agent: AgentPlan): string {
  const wd = agent.deployment.workdir ?? '~';
  return `a2a_remove_pid_file ${remotePath(wd)} ${shellQuote(wd)} ${shellQuote(`.a2a-deploy/${job}/${agent.id}`)}`;
}

/** Finds the agent by its marker, prints its pids and sends the first signal (sh/lib.sh a2a_stop). */
export function stopScript(job: string, agent: AgentPlan, force: boolean, server: string): string {
  const wd = agent.deployment.workdir ?? '~';
  const dir = `.a2a-deploy/${job}/${agent.id}`;
  return `a2a_stop ${shellQuote(markerOf(job, agent.id))} ${shellQuote(server)} ${force ? 'KILL' : 'TERM'} ${remotePath(wd)} ${shellQuote(wd)} ${shellQuote(dir)}`;
}

export interface StatusQuery {
  id: string;
  pid: number;
  workdir?: string;
  /** an agent with limits: an ended one's out-of-memory kill is read from its memory group */
  limited?: boolean;
}

/** For each pid: `A2A-DEPLOY-ST pid alive`, or `… gone [exitPid status]` from the wrapper's
 *  exit record. With `waitGoneMs`, first waits (polling every 50 ms) up to that long for all to end. */
export function statusScript(job: string, server: string, agents: StatusQuery[], waitGoneMs = 0): string {
  const marker = (a: StatusQuery) => shellQuote(markerOf(job, a.id));
  const groupWords = (a: StatusQuery) => {
    if (!a.limited) return '';
    const g = remoteGroup(server, job, a.id);
    return ` ${shellQuote(g.root)} ${shellQuote(g.key)} ${shellQuote(g.leaf)}`;
  };
  const wait =
    waitGoneMs > 0 && agents.length > 0
      ? `a2a_wait_gone ${Math.ceil(waitGoneMs / 50)} ${shellQuote(server)} ${agents.map((a) => `${Math.floor(a.pid)} ${marker(a)}`).join(' ')}\n`
      : '';
  return (
    wait +
    agents
      .map(
        (a) =>
          `a2a_status ${Math.floor(a.pid)} ${marker(a)} ${shellQuote(server)} ${remotePath(a.workdir ?? '~')} ${shellQuote(`.a2a-deploy/${job}/${a.id}/exit`)}${groupWords(a)}`,
      )
      .join('\n')
  );
}

/** The last `n` lines of an agent's log on the host (reading at most its last 8 KiB). */
export const tailScript = (job: string, id: string, workdir: string | undefined, stream: 'stdout' | 'stderr', n: number) =>
  `a2a_tail ${remotePath(workdir ?? '~')} ${shellQuote(`.a2a-deploy/${job}/${id}/${stream}.log`)} ${Math.floor(n)}`;

/** Prints the log's size on its first line, then: what follows `from` (with offsets), or its last `tail` lines. */
export function readLogScript(job: string, agent: AgentPlan, name: 'stdout' | 'stderr', tail: number, from?: number): string {
  const file = shellQuote(`.a2a-deploy/${job}/${agent.id}/${name}.log`);
  return `a2a_read_log ${remotePath(agent.deployment.workdir ?? '~')} ${file} ${Math.max(0, Math.floor(tail))}${from !== undefined ? ` ${Math.floor(from)}` : ''}`;
}
