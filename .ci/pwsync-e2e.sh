#!/usr/bin/env bash
# pwsync-e2e.sh runs the password sync end-to-end test with the latency
# measurement (60 changes) on a throwaway Samba DC the test provisions
# itself (on E365_PWSYNC_DC_IP, default 127.0.0.2), and prints the
# figures. It installs what the test needs with apt-get when missing
# (samba, gpg, python3-gpg, krb5-user for kpasswd) and needs root.
# The test runs only with E365_PWSYNC_E2E=1, set here: `go test ./...`
# (CI's race run included) skips it, so CI provisions its DC once, here.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v samba >/dev/null || need+=(samba samba-ad-dc samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind)
[[ -d /usr/share/samba/setup/ad-schema ]] || need+=(samba-ad-provision)
command -v openssl >/dev/null || need+=(openssl)
command -v gpg >/dev/null || need+=(gpg)
/usr/bin/python3 -c 'import gpg' 2>/dev/null || need+=(python3-gpg)
command -v kpasswd >/dev/null || need+=(krb5-user)
if ((${#need[@]} > 0)); then
	echo "pwsync-e2e: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${need[@]}" >&2
fi

export E365_REQUIRE_INTEGRATION=1
export E365_PWSYNC_E2E=1
export E365_PWSYNC_MEASURE=${E365_PWSYNC_MEASURE:-60}
go test -count=1 -v -timeout 20m -run 'TestPasswordSyncOnARealDC' ./examples/pwsync-agent
