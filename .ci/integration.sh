#!/usr/bin/env bash
# integration.sh runs a command against a throwaway Samba AD DC:
#
#   bash .ci/integration.sh CMD ARGS...
#
# It installs samba, ldap-utils and openssl with apt-get when they are
# missing, starts a DC on 127.0.0.1 in a temporary directory
# (scripts/samba-dc), exports the E365_LDAP_* settings and
# E365_REQUIRE_INTEGRATION=1 (so tests fail instead of skipping), runs CMD,
# stops the DC whatever happens and exits with CMD's status. It needs root.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD ARGS..." >&2
	exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need=()
command -v samba >/dev/null || need+=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind)
[[ -d /usr/share/samba/setup/ad-schema ]] || need+=(samba-ad-provision)
command -v ldapsearch >/dev/null || need+=(ldap-utils)
command -v openssl >/dev/null || need+=(openssl)
[[ -x /usr/sbin/named ]] || need+=(bind9)
# The password sync end-to-end test (examples/pwsync-agent) provisions its own DC and needs these too.
command -v gpg >/dev/null || need+=(gpg)
/usr/bin/python3 -c 'import gpg' 2>/dev/null || need+=(python3-gpg)
command -v kpasswd >/dev/null || need+=(krb5-user)
if ((${#need[@]} > 0)); then
	echo "integration: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${need[@]}" >&2
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/e365-samba.XXXXXX")
cleanup() {
	"$root/scripts/samba-dc" stop "$dir" || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The DC also serves its internal DNS, for the sambadns zone driver suite.
export E365_DC_DNS=${E365_DC_DNS:-1}
settings=$("$root/scripts/samba-dc" start "$dir")
eval "$settings"
export E365_REQUIRE_INTEGRATION=1

status=0
"$@" || status=$?
exit "$status"
