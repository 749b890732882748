#!/usr/bin/env bash
# Installs everything, then runs the whole RFT loop on the embedded task (two tiny models, CPU).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec rft demo "$@"
