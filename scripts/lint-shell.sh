#!/usr/bin/env bash
# Runs Debian's shellcheck over every shell script of the repository, as part of
# `npm run lint`: each *.sh file and each tracked file whose first line runs sh or bash
# (.ci/run), including the scripts the SSH runner sends to remote hosts (src/**/sh/*.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "lint-shell: shellcheck is not installed: bash scripts/install-debian-tool.sh shellcheck shellcheck (root), or apt-get install shellcheck" >&2
  exit 1
fi
files=()
while IFS= read -r f; do
  [[ -f $f ]] || continue
  if [[ $f == *.sh ]] || head -n1 -- "$f" | grep -qE '^#!.*[/ ](ba|da)?sh( |$)'; then files+=("$f"); fi
done < <(git ls-files --cached --others --exclude-standard -- ':!:node_modules' ':!:.tools' ':!:dist')
shellcheck --external-sources -- "${files[@]}"
echo "lint-shell: ${#files[@]} scripts, no findings"
