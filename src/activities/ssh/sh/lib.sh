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
    # The cgroup.procs files the wrapper joins first (a2a_cgroup; none without limits): split on purpose.
    # shellcheck disable=SC2086
    set -- "$SETSID" "$NOHUP" /bin/sh -c "$a2a_WRAPPER" a2a-agent "$D/exit" "${a2a_NPROCS:-0}" ${a2a_PROCS:-} "$@"
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

# a2a_status PID MARKER SERVER WORKDIR EXIT_FILE [ROOT KEY LEAF]: `A2A-DEPLOY-ST PID alive`, or
# `… gone` followed by the wrapper's exit record ("pid status", which the worker matches to PID),
# if any, and for an agent with limits (ROOT KEY LEAF) its out-of-memory kill, if its group counted one.
a2a_status() {
  if a2a_alive "$1" "$2" "$3"; then
    echo "A2A-DEPLOY-ST $1 alive"
  else
    a2a_e=$( (cd "$4" && cat "$5") 2>/dev/null)
    echo "A2A-DEPLOY-ST $1 gone $a2a_e"
    [ -z "${6:-}" ] || a2a_cg_oom "$1" "$6" "$7" "$8"
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

# Resource limits (deployment.memory, cpus, pids) on the host, as src/process/cgroups.ts does them
# on the worker's machine: one group per agent under a2a-deploy/KEY/LEAF (KEY: the server's hash,
# LEAF: job.agent), in cgroup v2 (ROOT/cgroup.controllers) or in each v1 hierarchy under ROOT.

# a2a_cg_mount ROOT CONTROLLER: the v1 hierarchy folder holding CONTROLLER ('cpu', 'cpu,cpuacct').
a2a_cg_mount() {
  for a2a_d in "$1"/*; do
    case ",${a2a_d##*/}," in *",$2,"*) [ -f "$a2a_d/cgroup.procs" ] && { echo "$a2a_d"; return 0; } ;; esac
  done
  return 1
}

# a2a_cg_empty GROUP: kills what is left in the group and removes it (busy for a moment while
# its last process exits: retried briefly). No group: nothing to do.
a2a_cg_empty() {
  [ -d "$1" ] || return 0
  a2a_i=0
  while [ "$a2a_i" -lt 40 ]; do
    while read -r a2a_p; do kill -9 "$a2a_p" 2>/dev/null; done < "$1/cgroup.procs"
    rmdir "$1" 2>/dev/null && return 0
    sleep 0.05 2>/dev/null || sleep 1
    a2a_i=$((a2a_i + 1))
  done
  return 0
}

# a2a_cg_write FILE VALUE: sets a limit, or refuses the start in words.
a2a_cg_write() { echo "$2" > "$1" 2>/dev/null || a2a_error "cannot set $1 to $2 on the host (a value out of the kernel's range, or a tree not writable)"; }

# a2a_cg_make GROUP HINT: the group afresh (its counters are this start's), added to the files to join.
a2a_cg_make() {
  # The paths are the kernel's mount names and our own: refused if unusual, as they are split on spaces.
  case $1 in *[!A-Za-z0-9/,._-]*) a2a_error "unusual cgroup path $1 on the host" ;; esac
  case " $a2a_PROCS " in *" $1/cgroup.procs "*) return 0 ;; esac
  a2a_cg_empty "$1"
  mkdir -p "$1" 2>/dev/null || a2a_error "cannot create the cgroup $1 on the host ($2)"
  a2a_PROCS="$a2a_PROCS $1/cgroup.procs"
  a2a_NPROCS=$((a2a_NPROCS + 1))
}

# a2a_cgroup ROOT KEY LEAF MEMORY CPU_QUOTA PIDS: the agent's groups with its limits ('-': that one
# unlimited; CPU_QUOTA in microseconds per 100 ms). Sets a2a_NPROCS and a2a_PROCS, the cgroup.procs
# files the wrapper joins before the agent's first instruction. Where no writable tree holds the
# controllers it refuses the start (a2a_error): a limit is never ignored.
a2a_cgroup() {
  a2a_r=$1 a2a_k=$2 a2a_l=$3 a2a_mem=$4 a2a_cpu=$5 a2a_pm=$6
  a2a_NPROCS=0 a2a_PROCS=
  a2a_hint='resource limits need a writable cgroup tree for the remote user: root with cgroup v1 (memory, cpu, pids mounted), or cgroup v2 with those controllers delegated'
  [ -d "$a2a_r" ] || a2a_error "there is no cgroup tree at $a2a_r on the host ($a2a_hint)"
  if [ -f "$a2a_r/cgroup.controllers" ]; then
    for a2a_d in "$a2a_r" "$a2a_r/a2a-deploy" "$a2a_r/a2a-deploy/$a2a_k"; do
      mkdir -p "$a2a_d" 2>/dev/null || a2a_error "cannot create the cgroup $a2a_d on the host ($a2a_hint)"
      for a2a_c in memory cpu pids; do
        grep -qw "$a2a_c" "$a2a_d/cgroup.subtree_control" 2>/dev/null || echo "+$a2a_c" > "$a2a_d/cgroup.subtree_control" 2>/dev/null ||
          a2a_error "cgroup v2 at $a2a_d does not delegate $a2a_c to this user ($a2a_hint)"
      done
    done
    a2a_g=$a2a_r/a2a-deploy/$a2a_k/$a2a_l
    a2a_cg_make "$a2a_g" "$a2a_hint"
    if [ "$a2a_mem" != - ]; then a2a_cg_write "$a2a_g/memory.max" "$a2a_mem"; echo 0 > "$a2a_g/memory.swap.max" 2>/dev/null; fi
    [ "$a2a_cpu" = - ] || a2a_cg_write "$a2a_g/cpu.max" "$a2a_cpu 100000"
    [ "$a2a_pm" = - ] || a2a_cg_write "$a2a_g/pids.max" "$a2a_pm"
    return 0
  fi
  for a2a_c in memory cpu pids; do
    case $a2a_c in memory) a2a_v=$a2a_mem ;; cpu) a2a_v=$a2a_cpu ;; *) a2a_v=$a2a_pm ;; esac
    [ "$a2a_v" = - ] && continue
    a2a_m=$(a2a_cg_mount "$a2a_r" "$a2a_c") || a2a_error "no cgroup hierarchy for $a2a_c under $a2a_r on the host ($a2a_hint)"
    a2a_g=$a2a_m/a2a-deploy/$a2a_k/$a2a_l
    a2a_cg_make "$a2a_g" "$a2a_hint"
    case $a2a_c in
      memory) a2a_cg_write "$a2a_g/memory.limit_in_bytes" "$a2a_v"; echo "$a2a_v" > "$a2a_g/memory.memsw.limit_in_bytes" 2>/dev/null ;;
      cpu) a2a_cg_write "$a2a_g/cpu.cfs_period_us" 100000; a2a_cg_write "$a2a_g/cpu.cfs_quota_us" "$a2a_v" ;;
      *) a2a_cg_write "$a2a_g/pids.max" "$a2a_v" ;;
    esac
  done
}

# a2a_cgroup_remove ROOT KEY LEAF: the agent's groups go, with whatever still runs in them.
a2a_cgroup_remove() {
  if [ -f "$1/cgroup.controllers" ]; then a2a_cg_empty "$1/a2a-deploy/$2/$3"; return 0; fi
  for a2a_d in "$1"/*/a2a-deploy/"$2"/"$3"; do a2a_cg_empty "$a2a_d"; done
  return 0
}

# a2a_cg_oom PID ROOT KEY LEAF: `A2A-DEPLOY-OOM PID KILLS LIMIT PEAK` when the agent's memory group
# counted an out-of-memory kill (v2: memory.events, memory.max, memory.peak; v1: memory.oom_control,
# memory.limit_in_bytes, memory.max_usage_in_bytes).
a2a_cg_oom() {
  if [ -f "$2/cgroup.controllers" ]; then
    a2a_g=$2/a2a-deploy/$3/$4
    a2a_n=$(sed -n 's/^oom_kill //p' "$a2a_g/memory.events" 2>/dev/null)
    a2a_lim=$(cat "$a2a_g/memory.max" 2>/dev/null) a2a_pk=$(cat "$a2a_g/memory.peak" 2>/dev/null)
  else
    a2a_m=$(a2a_cg_mount "$2" memory) || return 0
    a2a_g=$a2a_m/a2a-deploy/$3/$4
    a2a_n=$(sed -n 's/^oom_kill //p' "$a2a_g/memory.oom_control" 2>/dev/null)
    a2a_lim=$(cat "$a2a_g/memory.limit_in_bytes" 2>/dev/null) a2a_pk=$(cat "$a2a_g/memory.max_usage_in_bytes" 2>/dev/null)
  fi
  [ "${a2a_n:-0}" -gt 0 ] 2>/dev/null && echo "A2A-DEPLOY-OOM $1 $a2a_n ${a2a_lim:--} ${a2a_pk:--}"
  return 0
}

# a2a_cg_usage ROOT KEY LEAF V:CONTROLLER:FILE...: the agent's usage files for this host's cgroup
# version V, each as `A2A-DEPLOY-CG CONTROLLER FILE` followed by its lines, each prefixed
# `A2A-DEPLOY-CGL ` (the worker parses them as it parses its own, src/process/cgroups.ts usageFrom).
a2a_cg_usage() {
  a2a_r=$1 a2a_k=$2 a2a_l=$3
  shift 3
  a2a_v=1
  [ -f "$a2a_r/cgroup.controllers" ] && a2a_v=2
  echo "A2A-DEPLOY-CGV $a2a_v"
  for a2a_spec in "$@"; do
    case $a2a_spec in "$a2a_v":*) ;; *) continue ;; esac
    a2a_c=${a2a_spec#*:}; a2a_f=${a2a_c#*:}; a2a_c=${a2a_c%%:*}
    if [ "$a2a_v" = 2 ]; then a2a_g=$a2a_r/a2a-deploy/$a2a_k/$a2a_l
    else a2a_m=$(a2a_cg_mount "$a2a_r" "$a2a_c") || continue; a2a_g=$a2a_m/a2a-deploy/$a2a_k/$a2a_l
    fi
    [ -r "$a2a_g/$a2a_f" ] || continue
    echo "A2A-DEPLOY-CG $a2a_c $a2a_f"
    # Each line prefixed, the last one too when it has no newline.
    while IFS= read -r a2a_x || [ -n "$a2a_x" ]; do echo "A2A-DEPLOY-CGL $a2a_x"; done < "$a2a_g/$a2a_f"
  done
}
