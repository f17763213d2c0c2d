#!/bin/sh
# Output and input files: backups that cannot be lost or hijacked (runs at
# once in one folder, planted symlinks, device nodes, private modes, the
# folder checked before any USB traffic, --backup-dir), a full disk or a
# file size limit, and FIFOs given as input.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

stamp='[0-9]{8}-[0-9]{6}'
root=0
[ "$(id -u)" -eq 0 ] && root=1

# mode FILE: its permission bits in octal ("600").
mode() { stat -c %a "$1"; }

# stamps N: the backup time stamps of this second and the next N-1.
stamps() {
	_now=$(date +%s)
	_i=0
	while [ "$_i" -lt "$1" ]; do
		date -d "@$((_now + _i))" +%Y%m%d-%H%M%S
		_i=$((_i + 1))
	done
}

# ---- 1: runs at once in one folder ---------------------------------------------

newcase concurrent
mkimg new.bin 65536
i=0
while [ "$i" -lt 4 ]; do
	mkimg "img$i.bin" 65536
	cp "img$i.bin" "old$i.bin"
	i=$((i + 1))
done
round=0 bad=0 lost=0
while [ "$round" -lt 20 ]; do
	i=0
	while [ "$i" -lt 4 ]; do
		cp "old$i.bin" "img$i.bin"
		(
			"$BKSPI" -q -p sim -t spi --sim-image "img$i.bin" write new.bin >"out$i.txt" 2>"err$i.txt"
			echo $? >"rc$i"
		) &
		i=$((i + 1))
	done
	wait
	for i in 0 1 2 3; do
		[ "$(cat "rc$i")" = 0 ] && continue
		bad=$((bad + 1))
		echo "round $round run $i: exit $(cat "rc$i"): $(cat "err$i.txt")" >>failures.txt
	done
	round=$((round + 1))
done
check "4 writes at once, 20 times (all exit 0)" "$bad runs failed: $(head -n 2 failures.txt 2>/dev/null)" test "$bad" -eq 0
check "4 writes at once (80 backups)" "backups/ has $(count_files backups) files" test "$(count_files backups)" -eq 80
# Every backup is a whole copy of one of the four flashes.
for f in backups/*; do
	cmp -s "$f" old0.bin || cmp -s "$f" old1.bin || cmp -s "$f" old2.bin || cmp -s "$f" old3.bin || lost=$((lost + 1))
done
check "4 writes at once (every backup whole)" "$lost backups are not a flash's contents" test "$lost" -eq 0
check "4 writes at once (no .partial)" "a .partial file is left" no_partial
if backup_files | grep -Eq "_before-write_${stamp}_[0-9]+\.bin$" &&
	! backup_files | grep -Eq "_[0-9]+_[0-9]+\.bin$"; then
	pass
else
	fail "4 writes at once (a taken name gets _2...)" "got $(backup_files | head -n 3)"
fi

# ---- 2: planted symlinks ----------------------------------------------------------

newcase symlink_partial
mkimg img.bin 65536
cp img.bin old.bin
mkimg new.bin 65536
echo "precious" >victim
mkdir -m 700 backups
# planted NAME: symlinks to victim at the backup's NAME for the next seconds.
planted() {
	for _s in $(stamps 4); do
		ln -s ../victim "backups/0B4010_before-write_$_s.bin$1"
	done
}
for at in .partial "" "+.partial"; do
	cp old.bin img.bin
	rm -rf backups
	mkdir -m 700 backups
	case $at in
	+*) planted "" && planted .partial ;;
	*) planted "$at" ;;
	esac
	sim -t spi write new.bin
	what="symlinks at the backup's name${at:+ ($at)}"
	expect_rc 0 "$what (exit)"
	check "$what (target untouched)" "victim changed" test "$(cat victim)" = precious
	f=$(find backups -type f | head -n 1)
	check "$what (backup elsewhere)" "no regular backup file" test -n "$f"
	check "$what (backup whole)" "backup differs" same "${f:-/dev/null}" old.bin
	check "$what (flash written)" "flash differs" same img.bin new.bin
done
rm -rf backups

newcase symlink_read_partial
mkimg img.bin 65536
echo "precious" >victim
ln -s victim out.bin.partial
sim read out.bin
expect_rc 2 "read FILE with a symlink at FILE.partial (exit)"
expect_error_line "read FILE with a symlink at FILE.partial (message)" 'out\.bin\.partial exists.*remove it'
check "read FILE with a symlink at FILE.partial (target untouched)" "victim changed" test "$(cat victim)" = precious
ln -s victim link.bin
sim read link.bin --force
expect_rc 2 "read onto a symlink --force (exit)"
expect_error_line "read onto a symlink --force (message)" 'link\.bin is a symlink'
check "read onto a symlink --force (link kept)" "link.bin replaced" test -L link.bin
check "read onto a symlink --force (target untouched)" "victim changed" test "$(cat victim)" = precious
rm out.bin.partial

newcase symlink_dir
mkimg img.bin 65536
cp img.bin old.bin
mkimg new.bin 65536
mkdir -m 700 elsewhere
ln -s elsewhere backups
sim -t spi write new.bin
expect_rc 2 "backups/ is a symlink (exit)"
expect_error_line "backups/ is a symlink (message)" 'folder backups is a symlink.*--backup-dir'
check "backups/ is a symlink (nothing erased)" "flash changed" same img.bin old.bin
check "backups/ is a symlink (nothing saved)" "elsewhere/ has files" test "$(count_files elsewhere)" -eq 0

newcase open_dir
mkimg img.bin 65536
cp img.bin old.bin
mkimg new.bin 65536
mkdir backups
chmod 777 backups
sim -t spi write new.bin
expect_rc 2 "backups/ writable by others (exit)"
expect_error_line "backups/ writable by others (message)" 'folder backups is writable by others.*chmod 700 backups'
check "backups/ writable by others (nothing erased)" "flash changed" same img.bin old.bin
chmod 775 backups
sim read
expect_rc 2 "backups/ writable by the group (exit)"

if [ "$root" -eq 1 ] && id nobody >/dev/null 2>&1; then
	newcase foreign_dir
	mkimg img.bin 65536
	mkdir -m 700 backups
	chown nobody backups
	sim read
	expect_rc 2 "backups/ of another user (exit)"
	expect_error_line "backups/ of another user (message)" 'folder backups belongs to another user'
else
	skip "backups/ of another user" "needs root and a user nobody"
fi

# ---- 3: device nodes and FIFOs as output ---------------------------------------------

newcase device_out
mkimg img.bin 65536
mkfifo fifo
sim read fifo --force
expect_rc 2 "read onto a FIFO --force (exit)"
expect_error_line "read onto a FIFO --force (message)" 'fifo is a FIFO'
check "read onto a FIFO --force (still a FIFO)" "fifo was replaced" test -p fifo
if mknod null c 1 3 2>/dev/null; then
	sim read null --force
	expect_rc 2 "read onto a device node --force (exit)"
	expect_error_line "read onto a device node --force (message)" 'null is a device node'
	check "read onto a device node --force (still a device)" "node was replaced" test -c null
else
	skip "read onto a device node" "mknod is not allowed here"
fi

# ---- 4: private modes -------------------------------------------------------------------

newcase modes
mkimg img.bin 65536
mkimg new.bin 65536
(umask 022 && sim -t spi write new.bin)
f=$(backup_files | head -n 1)
check "backups/ is made 0700" "mode $(mode backups)" test "$(mode backups)" = 700
check "a backup is 0600" "mode $(mode "${f:-/}")" test "$(mode "${f:-/}")" = 600
(umask 022 && sim read out.bin)
check "read FILE is 0600" "mode $(mode out.bin)" test "$(mode out.bin)" = 600

# ---- 5: the backup folder is checked before any USB traffic ------------------------------

newcase precheck
mkimg new.bin 65536
: >notadir
# No CH341A here: a check after opening it would exit 3.
run --backup-dir notadir write new.bin
expect_rc 2 "--backup-dir is a file (exit 2, before USB)"
expect_error_line "--backup-dir is a file (message)" 'notadir is not a folder'
run --backup-dir notadir/sub read
expect_rc 2 "--backup-dir under a file (exit 2, before USB)"
expect_error_line "--backup-dir under a file (message)" 'notadir/sub is not a folder'
run read "$(printf '%0250d' 0).bin"
expect_rc 2 "read FILE with a name too long (exit 2, before USB)"
expect_error_line "read FILE with a name too long (message)" 'name is too long'
run read nodir/out.bin
expect_rc 2 "read FILE in a missing folder (exit 2)"
mkimg img.bin 65536
cp img.bin old.bin
sim -t spi --backup-dir my/backups write new.bin
expect_rc 0 "--backup-dir DIR (exit)"
f=$(find my/backups -type f | head -n 1)
check "--backup-dir DIR (backup there)" "no file in my/backups" test -n "$f"
check "--backup-dir DIR (backup whole)" "backup differs" same "${f:-/dev/null}" old.bin
check "--backup-dir DIR (no backups/)" "backups/ was created" test ! -e backups
sim --backup-dir my/backups read
expect_stdout_match "--backup-dir DIR for read" "to my/backups/0B4010_read_${stamp}\.bin"

# ---- 6: a file size limit ----------------------------------------------------------------

newcase fsize
mkimg img.bin 1048576
cp img.bin old.bin
mkimg new.bin 1048576
# 256 blocks: 128 KiB (dash) or 256 KiB (bash), far below the 1 MiB backup.
(ulimit -f 256 && sim -t spi write new.bin; exit $rc)
rc=$?
check "write under ulimit -f (not killed by SIGXFSZ)" "exit $rc" test "$rc" -ne 153
expect_rc 1 "write under ulimit -f (exit)"
expect_error_line "write under ulimit -f (message)" 'nothing was erased.*file size limit \(ulimit -f\)'
check "write under ulimit -f (nothing erased)" "flash changed" same img.bin old.bin
check "write under ulimit -f (no .partial)" "a .partial file is left" no_partial
(ulimit -f 256 && sim read out.bin; exit $rc)
rc=$?
expect_rc 1 "read under ulimit -f (exit)"
expect_error_line "read under ulimit -f (message)" 'cannot save out\.bin: .*ulimit -f'
check "read under ulimit -f (no file)" "out.bin was created" test ! -e out.bin
check "read under ulimit -f (no .partial)" "a .partial file is left" no_partial

# ---- 7: FIFOs as input ---------------------------------------------------------------------

newcase fifo_in
mkimg img.bin 65536
mkfifo f
for cmd in write verify info; do
	run_t() { timeout 10 "$BKSPI" "$@" >out.txt 2>err.txt; rc=$?; }
	if [ "$cmd" = info ]; then
		run_t info f
	else
		run_t -p sim --sim-image img.bin "$cmd" f
	fi
	expect_rc 2 "$cmd FIFO (exit 2, no hang)"
	expect_error_line "$cmd FIFO (message)" 'f is not a regular file but a FIFO'
done

finish
