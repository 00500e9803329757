#!/usr/bin/env bash
# bind.sh installs BIND 9 (Debian package bind9) when /usr/sbin/named is
# missing. The zone driver tests, the domains tests and examples/domainlink
# start their own named on 127.0.0.1 with a generated TSIG key; with
# E365_REQUIRE_INTEGRATION=1 they fail instead of skipping without it.
set -euo pipefail
if [[ ! -x /usr/sbin/named ]]; then
	echo "bind: installing bind9" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold bind9 >&2
fi
