#!/usr/bin/env bash
# Installs Debian's `docker-compose` for the production test's check of docker-compose.yml
# (`docker-compose config`: the file is valid and pins the server version tested here).
exec bash "$(dirname "${BASH_SOURCE[0]}")/../install-debian-tool.sh" docker-compose docker-compose
