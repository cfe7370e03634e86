#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# PROVIDE: vmtest
# REQUIRE: LOGIN zupgrade
# KEYWORD: nojail
#
# The vmtest agent of a real FreeBSD guest (installed at the first boot
# from the seed disk, see docs/vmtest.md). At every boot it mounts the
# seed disk (msdosfs, label cidata) the host made for this launch, runs
# its job (files kind, args, crash_at), writes what the host judges into
# out/ on the seed disk and powers off; zupgrade's own reboots end the
# launch earlier. It prints its markers on the console.

. /etc/rc.subr

name="vmtest"
rcvar="vmtest_enable"
start_cmd="vmtest_start"
stop_cmd=":"

load_rc_config $name
: "${vmtest_enable:=NO}"

seed=/mnt/vmtest
state=/var/db/zupgrade

say()
{
	printf '@@vmtest %s\n' "$*" > /dev/console
}

# report writes the end state into out/ and syncs the seed disk.
report()
{
	out=$seed/out
	mkdir -p "$out/boot"
	freebsd-version -k > "$out/kernel" 2>&1
	freebsd-version -u > "$out/world" 2>&1
	pool=$(kenv -q vfs.root.mountfrom | sed -e 's/^zfs://' -e 's,/.*,,')
	zpool list -H -o health "$pool" > "$out/pool" 2>&1
	if [ -f "$state/journal.json" ]; then
		cp "$state/journal.json" "$out/journal.json"
	fi
	if [ -f /usr/local/etc/rc.d/zupgrade ]; then
		echo yes > "$out/hook_left"
	fi
	for f in pmbr gptzfsboot loader.efi; do
		if [ -f "/boot/$f" ]; then
			cp "/boot/$f" "$out/boot/$f"
		fi
	done
	sync
}

vmtest_start()
{
	mkdir -p "$seed"
	if ! mount -t msdosfs /dev/msdosfs/cidata "$seed"; then
		say "error the seed disk (msdosfs/cidata) does not mount"
		poweroff
		return
	fi
	say ready
	kind=$(cat "$seed/kind")
	status=0
	case "$kind" in
	apply)
		set --
		while IFS= read -r a; do
			set -- "$@" "$a"
		done < "$seed/args"
		ZUPGRADE_CRASH_AT=$(cat "$seed/crash_at") \
			/usr/local/sbin/zupgrade --state-dir "$state" apply "$@" \
			> "$seed/out/output" 2>&1 < /dev/null
		status=$?
		if [ "$status" -ge 128 ] && [ -s "$seed/crash_at" ] && [ -f "$seed/crash_is_cut" ]; then
			# zupgrade stopped itself at the crash point: the host
			# freezes the VM at this line and quits it.
			say pause
			while :; do sleep 3600; done
		fi
		;;
	boot)
		# The boot hook detached the resumed run (daemon(8)): wait
		# for it, as the admin would.
		while pgrep -f -- "--state-dir $state apply --resume" > /dev/null; do
			sleep 1
		done
		if [ -f "$state/resume.log" ]; then
			cp "$state/resume.log" "$seed/out/output"
			rm -f "$state/resume.log"
		fi
		;;
	esac
	echo "$status" > "$seed/out/exit"
	report
	umount "$seed"
	say "result $kind"
	poweroff
}

run_rc_command "$1"
