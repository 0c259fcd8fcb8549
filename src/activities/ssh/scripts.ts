// The remote shell scripts, as text. Fixed text only; every value from the job enters through
// shellQuote (or remotePath), once. Pure functions, so they are unit-tested without an sshd.
import { ApplicationFailure } from '@temporalio/activity';
import type { AgentPlan } from '../../job/plan';
import { BASE_NAMES } from '../agent-env';
import { MARKER, markerOf, SERVER, SPEC } from '../markers';
import { remotePath, shellQuote } from './quoting';

/** Every script prints this first, so whatever a login shell's rc files print is skipped. */
export const BEGIN = 'A2A-DEPLOY-BEGIN';

export const PRELUDE = String.raw`
# a2a_alive PID MARKER SERVER: PID lives (is not a zombie) and carries MARKER and SERVER in its
# environment (the job name alone is not unique: another a2a-deploy may run the same job here).
a2a_alive() {
  { read -r a2a_st < "/proc/$1/stat"; } 2>/dev/null || return 1
  case "\${a2a_st##*') '}" in Z*|X*) return 1 ;; esac
  grep -qsxzF -e "${MARKER}=$2" "/proc/$1/environ" && grep -qsxzF -e "${SERVER}=$3" "/proc/$1/environ"
}
# a2a_find MARKER SERVER: "pid spec" of each live process group leader carrying MARKER and
# SERVER (an agent's own children inherit the markers, but lead no group).
a2a_find() {
  a2a_m=$1; a2a_sv=$2
  for a2a_f in $(grep -lsxzF -e "${MARKER}=$a2a_m" /proc/[0-9]*/environ); do
    grep -qsxzF -e "${SERVER}=$a2a_sv" "$a2a_f" || continue
    a2a_p=\${a2a_f#/proc/}; a2a_p=\${a2a_p%/environ}
    { read -r a2a_st < "/proc/$a2a_p/stat"; } 2>/dev/null || continue
    set -- \${a2a_st##*') '} # state ppid pgrp ...
    case "$1" in Z*|X*) continue ;; esac
    [ "$3" = "$a2a_p" ] || continue
    a2a_s=$(grep -asxz -m1 -e '${SPEC}=.*' "/proc/$a2a_p/environ" | tr -d '\000')
    echo "$a2a_p \${a2a_s#${SPEC}=}"
  done
}
a2a_error() { echo "A2A-DEPLOY-ERROR $*"; exit 0; }
# a2a_unreadable FILE: why FILE cannot be read, in words (never its content).
a2a_unreadable() {
  if [ ! -e "$1" ]; then echo 'no such file'; elif [ -d "$1" ]; then echo 'a directory'
  elif [ ! -r "$1" ]; then echo 'not readable'; else echo 'read error'; fi
}
`.replace(/\\\$/g, '$');

// The agent's group leader: a tiny sh that runs the agent, waits for it (through the
// TERM of a stop, which the whole group receives), and records how it ended, so the
// worker can say "exited with code 1" although it is not the agent's parent.
// $1 is the exit file; the rest is the agent's argv.
export const WRAPPER = [
  // sh exports PWD of its own accord: the agent gets only what the start script exported.
  'unset PWD',
  'f=$1; shift',
  '"$@" &',
  'c=$!',
  // A no-op trap (unlike an ignored signal) is reset in the agent by exec, and makes wait return.
  'trap : TERM INT HUP',
  'while :; do wait "$c"; s=$?; kill -0 "$c" 2>/dev/null || break; done',
  'echo "$$ $s" > "$f"',
  'exit "$s"',
].join('\n');

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
  return [
    `cd ${remotePath(wd)} 2>/dev/null || a2a_error ${shellQuote(`workdir ${wd} does not exist on the host`)}`,
    create ? `mkdir -p ${shellQuote(dir)} || a2a_error ${shellQuote(`cannot create ${dir} in`)} "$(pwd)"` : '',
    `D=$(pwd -P)/${shellQuote(dir)}`,
  ].join('\n');
}

/** sh that signals the process groups led by these pids (the agent and its children). */
export const signalScript = (sig: 'TERM' | 'KILL', pids: (number | string)[]) =>
  // dash's kill takes no `--`; `-PGID` right after the signal works in every sh.
  pids.map((p) => `kill -${sig} -${p} 2>/dev/null || kill -${sig} ${p} 2>/dev/null`).join('\n') + '\n:';

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
        `MOD=${remotePath(spec)}\n[ -f "$MOD" ] || a2a_error ${shellQuote(`module ${spec} not found on the host (relative to`)} "$(pwd))"`
      : // A package specifier (a2a-deploy/agents/weather): node resolves it on the host, from the workdir.
        `MOD=$(${program} -p 'require.resolve(process.argv[1], { paths: [process.cwd()] })' ${shellQuote(spec)} 2>/dev/null) ` +
        `|| a2a_error ${shellQuote(`module ${spec} cannot be resolved on the host from`)} "$(pwd)"`;
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
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads the `file:` secrets into shell variables a2a_s0, a2a_s1... (never exported, so no
 * process sees them before the agent), each without one trailing newline; an unreadable one
 * prints `A2A-DEPLOY-SECRET-ERROR NAME why` and ends the script before anything is touched.
 */
function readSecretFiles(files: Record<string, string>): string {
  const names = Object.keys(files);
  if (names.length === 0) return '';
  return [
    // A newline and a CR, for stripping; `$(...)` alone would strip every trailing newline.
    "a2a_nl=$(printf '\\nx'); a2a_nl=${a2a_nl%x}; a2a_cr=$(printf '\\r')",
    ...names.map((name, i) => {
      const v = `a2a_s${i}`;
      const path = remotePath(files[name]);
      return [
        // cat's argv holds the path only; the value comes back through a pipe. The `x` keeps
        // trailing newlines, and tells an empty file from a failed read.
        `${v}=$(cat -- ${path} 2>/dev/null && printf x) || { echo ${shellQuote(`A2A-DEPLOY-SECRET-ERROR ${name}`)} "$(a2a_unreadable ${path})"; exit 0; }`,
        `${v}=\${${v}%x}`,
        `case $${v} in *"$a2a_cr$a2a_nl") ${v}=\${${v}%"$a2a_cr$a2a_nl"} ;; *"$a2a_nl") ${v}=\${${v}%"$a2a_nl"} ;; esac`,
      ].join('\n');
    }),
  ].join('\n');
}

/**
 * Why the environment travels this way. The values (the plan's, `env:` secrets resolved on the
 * worker) are single-quoted into this script, which reaches `/bin/sh -s` on its stdin through
 * the encrypted channel: never on a command line (`ps`, /proc/PID/cmdline), never in a file
 * on the host (a 0600 file the agent sources would still sit on disk, in backups, and stay
 * behind when anything between writing and removing it fails). `file:` secrets are read on
 * the host into unexported shell variables. Only in the subshell that becomes the agent
 * (exec: no extra process) is the login environment cut down to the base names and the
 * values exported, `export` being a builtin; every helper process run before carries none of them.
 */
function launchAgent(words: string[], env: RemoteEnv, markers: Record<string, string>): string {
  const keep = [...BASE_NAMES, 'LC_*'].join('|');
  const exportLines = [
    ...Object.entries(env.values).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    ...Object.keys(env.files).map((k, i) => `export ${k}="$a2a_s${i}"`),
    ...Object.entries(markers).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
  ];
  return [
    '(',
    // Detached: its own session and process group (setsid), deaf to hangups (nohup), no
    // terminal, stdin from /dev/null, output to the log files. Redirections and argv are fixed
    // first, so no exported name (D, MOD, IFS...) can change what runs or where it writes.
    `exec </dev/null >>"$D/stdout.log" 2>>"$D/stderr.log"`,
    `set -- "$SETSID" "$NOHUP" /bin/sh -c ${shellQuote(WRAPPER)} a2a-agent "$D/exit" ${words.join(' ')}`,
    // `command`: a readonly variable is left alone instead of ending the shell.
    `for a2a_n in $(env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); do`,
    `  case $a2a_n in ${keep}) ;; *) command unset "$a2a_n" 2>/dev/null ;; esac`,
    'done',
    ...exportLines,
    'exec "$@"',
    ') &',
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
    `running=$(a2a_find ${shellQuote(marker)} ${shellQuote(server)})`,
    `if [ -n "$running" ]; then`,
    `  echo "$running" | sed 's/^/A2A-DEPLOY-RUNNING /'`,
    `  [ -f "$D/agent.pid" ] && echo "A2A-DEPLOY-PIDFILE $(cat "$D/agent.pid")"`,
    `  exit 0`,
    `fi`,
    `command -v ${program} >/dev/null 2>&1 || a2a_error ${shellQuote(`${agent.run.command?.[0] ?? agent.deployment.node} not found on the host; PATH is`)} "$PATH"`,
    // Absolute paths: the agent's own env (which may set PATH) must not change what runs them.
    `SETSID=$(command -v setsid) || a2a_error 'setsid not found on the host (util-linux)'`,
    `NOHUP=$(command -v nohup) || a2a_error 'nohup not found on the host (coreutils)'`,
    moduleCheck,
    `rm -f "$D/exit"`,
    `printf '%s\\n' ${shellQuote(`--- a2a-deploy: starting ${agent.id} at ${startedAt}: `)}"$(printf '%s ' ${words.join(' ')})" >> "$D/stderr.log"`,
    launchAgent(words, env, { [MARKER]: marker, [SPEC]: agent.specHash, [SERVER]: server }),
    `pid=$!`,
    // Atomic: a reader never sees half a pid file.
    `printf '%s %s %s\\n' "$pid" ${shellQuote(agent.specHash)} ${shellQuote(startedAt)} > "$D/.agent.pid.$$" && mv -f "$D/.agent.pid.$$" "$D/agent.pid"`,
    `echo "A2A-DEPLOY-STARTED $pid"`,
  ].join('\n');
}

/**
 * Prints each `file:` secret's content as `A2A-DEPLOY-SECRET NAME HEX` (od: POSIX, and the
 * content goes through pipes, never argv), so the worker can scrub the agent's output of it.
 * Unreadable files print nothing: nothing of them can be in the output either.
 */
export function secretFilesScript(workdir: string | undefined, files: Record<string, string>): string {
  return [
    `cd ${remotePath(workdir ?? '~')} 2>/dev/null || exit 0`,
    ...Object.entries(files).map(
      ([name, path]) =>
        `[ -f ${remotePath(path)} ] && [ -r ${remotePath(path)} ] && ` +
        `echo ${shellQuote(`A2A-DEPLOY-SECRET ${name}`)} "$(od -An -v -tx1 < ${remotePath(path)} | tr -d ' \\n')"`,
    ),
    ':',
  ].join('\n');
}

/** Removes the agent's pid file (quietly). */
export const removePidFileScript = (job: string, agent: AgentPlan) =>
  `( ${enterAgentDir(job, agent, false)}\nrm -f "$D/agent.pid" ) >/dev/null`;

/** Finds the agent by its marker (not by pid file: that finds it even if the file was lost),
 *  prints its pids and sends the first signal; with nothing running, removes the pid file. */
export function stopScript(job: string, agent: AgentPlan, force: boolean, server: string): string {
  return [
    `pids=$(a2a_find ${shellQuote(markerOf(job, agent.id))} ${shellQuote(server)} | cut -d' ' -f1)`,
    `[ -z "$pids" ] && { ${removePidFileScript(job, agent)}; exit 0; }`,
    `for p in $pids; do echo "A2A-DEPLOY-RUNNING $p"; done`,
    signalScript(force ? 'KILL' : 'TERM', ['$p']).replace(/^/, 'for p in $pids; do\n') + '\ndone',
  ].join('\n');
}

export interface StatusQuery {
  id: string;
  pid: number;
  workdir?: string;
}

/** For each pid: `A2A-DEPLOY-ST pid alive`, or `… gone [exitPid status]` from the wrapper's
 *  exit record. With `waitGoneMs`, first waits (polling every 50 ms) up to that long for all to end. */
export function statusScript(job: string, server: string, agents: StatusQuery[], waitGoneMs = 0): string {
  const anyAlive = agents.map((a) => `a2a_alive ${a.pid} ${shellQuote(markerOf(job, a.id))} ${shellQuote(server)}`).join(' || ');
  const wait =
    waitGoneMs > 0
      ? // `sleep 0.05` is GNU and busybox; a strictly POSIX sleep falls back to whole seconds.
        `n=0; while [ $n -lt ${Math.ceil(waitGoneMs / 50)} ] && { ${anyAlive}; }; do sleep 0.05 2>/dev/null || sleep 1; n=$((n + 1)); done\n`
      : '';
  return (
    wait +
    agents
      .map((a) =>
        [
          `if a2a_alive ${a.pid} ${shellQuote(markerOf(job, a.id))} ${shellQuote(server)}; then echo "A2A-DEPLOY-ST ${a.pid} alive"`,
          // Gone: the wrapper's record, if it is this pid's ("pid status").
          `else e=$( (cd ${remotePath(a.workdir ?? '~')} && cat ${shellQuote(`.a2a-deploy/${job}/${a.id}/exit`)}) 2>/dev/null); echo "A2A-DEPLOY-ST ${a.pid} gone $e"; fi`,
        ].join('\n'),
      )
      .join('\n')
  );
}

/** The last `n` lines of an agent's log on the host (reading at most its last 8 KiB). */
export const tailScript = (job: string, id: string, workdir: string | undefined, stream: 'stdout' | 'stderr', n: number) =>
  `cd ${remotePath(workdir ?? '~')} 2>/dev/null && tail -c 8192 ${shellQuote(`.a2a-deploy/${job}/${id}/${stream}.log`)} 2>/dev/null | tail -n ${n}`;

/** Prints the log's size on its first line, then: what follows `from` (with offsets), or its last `tail` lines. */
export function readLogScript(job: string, agent: AgentPlan, name: 'stdout' | 'stderr', tail: number, from?: number): string {
  return [
    `cd ${remotePath(agent.deployment.workdir ?? '~')} 2>/dev/null || { echo 0; exit 0; }`,
    `f=${shellQuote(`.a2a-deploy/${job}/${agent.id}/${name}.log`)}`,
    `size=$(stat -c %s "$f" 2>/dev/null || echo 0)`,
    `echo "$size"`,
    from !== undefined
      ? // What was appended since the offset; a file that shrank was replaced: start over.
        `from=${from}; [ "$size" -lt "$from" ] && from=0; [ "$size" -gt "$from" ] && tail -c +$((from + 1)) "$f" | head -c $((size - from))`
      : tail > 0
        ? `[ "$size" -gt 0 ] && tail -c 1048576 "$f" | tail -n ${Math.floor(tail)}`
        : '',
    ':',
  ].join('\n');
}
