# shellcheck shell=sh
# The agent's group leader, run as `sh -c` with the exit file as $1 and the agent's argv after
# it: runs the agent, waits for it (through the TERM of a stop, which the whole group receives),
# and records how it ended, so the worker can say "exited with code 1" although it is not the
# agent's parent. Comment lines are dropped before it is passed (it shows in `ps`).
# sh exports PWD of its own accord: the agent gets only what the start script exported.
unset PWD
f=$1
shift
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
