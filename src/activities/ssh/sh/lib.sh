# shellcheck shell=sh
# The functions every remote script calls. src/activities/ssh/scripts.ts sends this file, then the
# script's own lines, which only call these functions with single-quoted values: this file is
# fixed text, so no job value is ever parsed as shell. POSIX sh (dash, busybox sh, bash).
# Before this file the script sets a2a_MARKER, a2a_SPEC and a2a_SERVER: the names of the
# environment markers that identify an agent (src/activities/markers.ts).
# Comment lines are dropped before sending.
: "${a2a_MARKER:?}" "${a2a_SPEC:?}" "${a2a_SERVER:?}"

# a2a_alive PID MARKER SERVER: PID lives (is not a zombie) and carries MARKER and SERVER in its
# environment (the job name alone is not unique: another a2a-deploy may run the same job here).
a2a_alive() {
  { read -r a2a_st < "/proc/$1/stat"; } 2>/dev/null || return 1
  case "${a2a_st##*') '}" in Z*|X*) return 1 ;; esac
  grep -qsxzF -e "$a2a_MARKER=$2" "/proc/$1/environ" && grep -qsxzF -e "$a2a_SERVER=$3" "/proc/$1/environ"
}

# a2a_find MARKER SERVER: "pid spec" of each live process group leader carrying MARKER and
# SERVER (an agent's own children inherit the markers, but lead no group).
a2a_find() {
  a2a_m=$1; a2a_sv=$2
  # The names are /proc/PID/environ: no spaces to split on.
  # shellcheck disable=SC2013
  for a2a_f in $(grep -lsxzF -e "$a2a_MARKER=$a2a_m" /proc/[0-9]*/environ); do
    grep -qsxzF -e "$a2a_SERVER=$a2a_sv" "$a2a_f" || continue
    a2a_p=${a2a_f#/proc/}; a2a_p=${a2a_p%/environ}
    { read -r a2a_st < "/proc/$a2a_p/stat"; } 2>/dev/null || continue
    # Split on purpose: the fields after the command name are state ppid pgrp ...
    # shellcheck disable=SC2086
    set -- ${a2a_st##*') '}
    case "$1" in Z*|X*) continue ;; esac
    [ "$3" = "$a2a_p" ] || continue
    a2a_s=$(grep -asxz -m1 -e "$a2a_SPEC=.*" "/proc/$a2a_p/environ" | tr -d '\000')
    echo "$a2a_p ${a2a_s#"$a2a_SPEC"=}"
  done
}

# a2a_error WORDS...: the script's one way to fail; the worker reads the line (exit 0: the
# channel's status would only say that sh ran).
a2a_error() { echo "A2A-DEPLOY-ERROR $*"; exit 0; }

# a2a_unreadable FILE: why FILE cannot be read, in words (never its content).
a2a_unreadable() {
  if [ ! -e "$1" ]; then echo 'no such file'; elif [ -d "$1" ]; then echo 'a directory'
  elif [ ! -r "$1" ]; then echo 'not readable'; else echo 'read error'; fi
}

# a2a_enter WORKDIR AS_WRITTEN DIR [create]: cd into the agent's workdir (AS_WRITTEN is how the
# job file gave it, for the message) and set D to the agent's state folder DIR under it.
a2a_enter() {
  cd "$1" 2>/dev/null || a2a_error "workdir $2 does not exist on the host"
  if [ "${4:-}" = create ]; then mkdir -p "$3" || a2a_error "cannot create $3 in" "$(pwd)"; fi
  D=$(pwd -P)/$3
}

# a2a_signal SIG PID: signals the process group PID leads (the agent and its children), else
# PID alone. dash's kill takes no `--`; `-PGID` right after the signal works in every sh.
a2a_signal() { kill -"$1" -"$2" 2>/dev/null || kill -"$1" "$2" 2>/dev/null; }

# a2a_stop MARKER SERVER SIG WORKDIR AS_WRITTEN DIR: finds the agent by its marker (not by pid
# file: that finds it even if the file was lost), prints its pids and signals them; with
# nothing running, removes the pid file.
a2a_stop() {
  a2a_pids=$(a2a_find "$1" "$2" | cut -d' ' -f1)
  if [ -z "$a2a_pids" ]; then
    a2a_remove_pid_file "$4" "$5" "$6"
    exit 0
  fi
  for a2a_p in $a2a_pids; do echo "A2A-DEPLOY-RUNNING $a2a_p"; done
  for a2a_p in $a2a_pids; do a2a_signal "$3" "$a2a_p"; done
}

# a2a_remove_pid_file WORKDIR AS_WRITTEN DIR: quietly, in a subshell (a missing workdir is no error here).
a2a_remove_pid_file() { ( a2a_enter "$1" "$2" "$3"; rm -f "$D/agent.pid" ) >/dev/null; }

# a2a_read_secret N NAME FILE: reads the file: secret NAME into the unexported variable a2a_sN,
# without one trailing newline (or CR LF); an unreadable file prints
# `A2A-DEPLOY-SECRET-ERROR NAME why` and ends the script before anything is touched.
a2a_read_secret() {
  if [ -z "${a2a_nl:-}" ]; then a2a_nl=$(printf '\nx'); a2a_nl=${a2a_nl%x}; a2a_cr=$(printf '\r'); fi
  # cat's argv holds the path only; the value comes back through a pipe. The `x` keeps trailing
  # newlines (`$(...)` alone strips them all), and tells an empty file from a failed read.
  a2a_v=$(cat -- "$3" 2>/dev/null && printf x) || { echo "A2A-DEPLOY-SECRET-ERROR $2" "$(a2a_unreadable "$3")"; exit 0; }
  a2a_v=${a2a_v%x}
  case $a2a_v in *"$a2a_cr$a2a_nl") a2a_v=${a2a_v%"$a2a_cr$a2a_nl"} ;; *"$a2a_nl") a2a_v=${a2a_v%"$a2a_nl"} ;; esac
  # N is a number the worker wrote: the assignment below names a2a_s0, a2a_s1, ... only.
  eval "a2a_s$1=\$a2a_v"
  a2a_v=
}

# a2a_running MARKER SERVER: when a copy of the agent runs, prints it (and its pid file) and ends the script.
a2a_running() {
  a2a_r=$(a2a_find "$1" "$2")
  [ -n "$a2a_r" ] || return 0
  echo "$a2a_r" | sed 's/^/A2A-DEPLOY-RUNNING /'
  [ -f "$D/agent.pid" ] && echo "A2A-DEPLOY-PIDFILE $(cat "$D/agent.pid")"
  exit 0
}

# a2a_tools PROGRAM MESSAGE: PROGRAM runs here, and setsid and nohup by absolute path (the
# agent's own environment, which may set PATH, must not change what runs them).
a2a_tools() {
  command -v "$1" >/dev/null 2>&1 || a2a_error "$2" "$PATH"
  SETSID=$(command -v setsid) || a2a_error 'setsid not found on the host (util-linux)'
  NOHUP=$(command -v nohup) || a2a_error 'nohup not found on the host (coreutils)'
}

# a2a_module_file FILE SPEC: the agent's module is the file FILE (SPEC as the job file gave it).
a2a_module_file() {
  MOD=$1
  [ -f "$MOD" ] || a2a_error "module $2 not found on the host (relative to" "$(pwd))"
}

# a2a_module_resolve NODE SPEC: the agent's module is the package specifier SPEC
# (a2a-deploy/agents/weather), which node resolves on the host, from the workdir.
a2a_module_resolve() {
  MOD=$("$1" -p 'require.resolve(process.argv[1], { paths: [process.cwd()] })' "$2" 2>/dev/null) ||
    a2a_error "module $2 cannot be resolved on the host from" "$(pwd)"
}

# a2a_launch ID STARTED_AT SPEC_HASH PROGRAM ARGS...: starts the agent detached and records its
# pid. Why the environment travels this way: the values are single-quoted into the function
# a2a_agent_env, which the script defines before calling this and which reaches `/bin/sh -s` on
# its stdin through the encrypted channel: never on a command line (`ps`, /proc/PID/cmdline),
# never in a file on the host (a 0600 file the agent sources would still sit on disk, in backups,
# and stay behind when anything between writing and removing it fails). `file:` secrets were
# read on the host into unexported variables. Only in the subshell that becomes the agent (exec:
# no extra process) is the login environment cut down to the base names and the values exported,
# `export` being a builtin; every helper process run before carries none of them.
a2a_launch() {
  : "${a2a_WRAPPER:?}" # agent-wrapper.sh, set by the start script
  a2a_id=$1 a2a_at=$2 a2a_hash=$3
  shift 3
  rm -f "$D/exit"
  printf '%s\n' "--- a2a-deploy: starting $a2a_id at $a2a_at: $(printf '%s ' "$@")" >> "$D/stderr.log"
  (
    # Detached: its own session and process group (setsid), deaf to hangups (nohup), no
    # terminal, stdin from /dev/null, output to the log files. Redirections and argv are fixed
    # first, so no exported name (D, MOD, IFS...) can change what runs or where it writes.
    exec </dev/null >>"$D/stdout.log" 2>>"$D/stderr.log"
    set -- "$SETSID" "$NOHUP" /bin/sh -c "$a2a_WRAPPER" a2a-agent "$D/exit" "$@"
    # The names kept are BASE_NAMES of src/activities/agent-env.ts (a unit test keeps them equal).
    # `command`: a readonly variable is left alone instead of ending the shell.
    for a2a_n in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p'); do
      case $a2a_n in PATH|HOME|USER|LANG|TZ|TMPDIR|LC_*) ;; *) command unset "$a2a_n" 2>/dev/null ;; esac
    done
    a2a_agent_env
    exec "$@"
  ) &
  pid=$!
  # Atomic: a reader never sees half a pid file.
  printf '%s %s %s\n' "$pid" "$a2a_hash" "$a2a_at" > "$D/.agent.pid.$$" && mv -f "$D/.agent.pid.$$" "$D/agent.pid"
  echo "A2A-DEPLOY-STARTED $pid"
}

# a2a_secret_hex NAME FILE: prints the file: secret's content as `A2A-DEPLOY-SECRET NAME HEX`
# (od: POSIX, and the content goes through pipes, never argv), so the worker can scrub the
# agent's output of it. An unreadable file prints nothing: nothing of it can be in the output either.
a2a_secret_hex() {
  [ -f "$2" ] && [ -r "$2" ] && echo "A2A-DEPLOY-SECRET $1" "$(od -An -v -tx1 < "$2" | tr -d ' \n')"
  return 0
}

# a2a_keep_given COUNT [HEX...]: keeps the secret values the agent is about to be given in
# "$D/agent.secrets", one hex line each, readable by its owner only (the local runner keeps them
# in its folder the same way): the env: ones as the worker sends them (HEX), the file: ones as
# read above (a2a_s0 .. a2a_s<COUNT-1>, through a pipe: printf is a builtin, so no argv shows
# them). The lines of earlier starts stay, since their output is still in the log files; the
# newest 64 are kept. So what the agent prints stays scrubbed after a file: source on the host
# changed or went away (a2a_given_hex reads them back).
a2a_keep_given() {
  a2a_n=$1
  shift
  (
    umask 077
    {
      [ -f "$D/agent.secrets" ] && cat "$D/agent.secrets"
      for a2a_h in "$@"; do echo "$a2a_h"; done
      a2a_i=0
      while [ "$a2a_i" -lt "$a2a_n" ]; do
        # a2a_i is a number: the expansion below names a2a_s0, a2a_s1, ... only.
        eval "printf '%s' \"\$a2a_s$a2a_i\"" | od -An -v -tx1 | tr -d ' \n'
        echo
        a2a_i=$((a2a_i + 1))
      done
    } | awk 'NF && !seen[$0]++' | tail -n 64 > "$D/.agent.secrets.$$" && mv -f "$D/.agent.secrets.$$" "$D/agent.secrets"
  )
}

# a2a_given_hex WORKDIR AS_WRITTEN DIR: prints each value a2a_keep_given kept for the agent in
# DIR as `A2A-DEPLOY-GIVEN HEX`; nothing when none was kept (or the workdir is gone).
a2a_given_hex() {
  (
    a2a_enter "$1" "$2" "$3" > /dev/null
    [ -r "$D/agent.secrets" ] && sed 's/^/A2A-DEPLOY-GIVEN /' "$D/agent.secrets"
  )
  return 0
}

# a2a_any_alive SERVER PID MARKER [PID MARKER...]: some of these agents still runs.
a2a_any_alive() {
  a2a_sv=$1
  shift
  while [ $# -ge 2 ]; do
    a2a_alive "$1" "$2" "$a2a_sv" && return 0
    shift 2
  done
  return 1
}

# a2a_wait_gone ROUNDS SERVER PID MARKER [PID MARKER...]: waits, polling every 50 ms, up to
# ROUNDS times for all of them to end. `sleep 0.05` is GNU and busybox; a strictly POSIX sleep
# falls back to whole seconds.
a2a_wait_gone() {
  a2a_rounds=$1
  shift
  a2a_i=0
  while [ "$a2a_i" -lt "$a2a_rounds" ] && a2a_any_alive "$@"; do
    sleep 0.05 2>/dev/null || sleep 1
    a2a_i=$((a2a_i + 1))
  done
}

# a2a_status PID MARKER SERVER WORKDIR EXIT_FILE: `A2A-DEPLOY-ST PID alive`, or `… gone` followed
# by the wrapper's exit record ("pid status", which the worker matches to PID), if any.
a2a_status() {
  if a2a_alive "$1" "$2" "$3"; then
    echo "A2A-DEPLOY-ST $1 alive"
  else
    a2a_e=$( (cd "$4" && cat "$5") 2>/dev/null)
    echo "A2A-DEPLOY-ST $1 gone $a2a_e"
  fi
}

# a2a_tail WORKDIR FILE N: the last N lines of an agent's log (reading at most its last 8 KiB).
a2a_tail() { cd "$1" 2>/dev/null && tail -c 8192 "$2" 2>/dev/null | tail -n "$3"; }

# a2a_read_log WORKDIR FILE TAIL [FROM]: the log's size on the first line, then what follows
# offset FROM, or without FROM its last TAIL lines (from its last MiB).
a2a_read_log() {
  cd "$1" 2>/dev/null || { echo 0; return 0; }
  a2a_size=$(stat -c %s "$2" 2>/dev/null || echo 0)
  echo "$a2a_size"
  if [ -n "${4:-}" ]; then
    # A file that shrank was replaced: start over.
    a2a_from=$4
    [ "$a2a_size" -lt "$a2a_from" ] && a2a_from=0
    [ "$a2a_size" -gt "$a2a_from" ] && tail -c +$((a2a_from + 1)) "$2" | head -c $((a2a_size - a2a_from))
  elif [ "$3" -gt 0 ]; then
    [ "$a2a_size" -gt 0 ] && tail -c 1048576 "$2" | tail -n "$3"
  fi
  return 0
}
