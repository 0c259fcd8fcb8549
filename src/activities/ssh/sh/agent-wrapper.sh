# shellcheck shell=sh
# The agent's group leader, run as `sh -c` with the exit file as $1, the number N of cgroup.procs
# files to join as $2, those files, and the agent's argv after them: runs the agent, waits for it (through the TERM of a stop, which the whole group receives),
# and records how it ended, so the worker can say "exited with code 1" although it is not the
# agent's parent. Comment lines are dropped before it is passed (it shows in `ps`).
# sh exports PWD of its own accord: the agent gets only what the start script exported.
unset PWD
f=$1
n=$2
shift 2
# Into the agent's cgroups first (N cgroup.procs files, none without limits), so the agent and
# every process it starts are inside from its first instruction: $$ is this shell, whose child it is.
while [ "$n" -gt 0 ]; do
  echo $$ > "$1" || { echo "a2a-deploy: cannot join the cgroup $1" >&2; echo "$$ 125" > "$f"; exit 125; }
  shift
  n=$((n - 1))
done
"$@" &
c=$!
# A no-op trap (unlike an ignored signal) is reset in the agent by exec, and makes wait return.
trap : TERM INT HUP
while :; do
  wait "$c"
  s=$?
  kill -0 "$c" 2>/dev/null || break
done
echo "$$ $s" > "$f"
exit "$s"
