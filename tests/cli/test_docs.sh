#!/bin/sh
# The man page, the shell completions and the udev rule against the tool:
# every command and option `bkspi --help` lists is in the man page's
# COMMANDS/OPTIONS (doc/bkspi.1.scd), in the bash completion and in the zsh
# completion, and each of those names nothing else, so none can drift from
# the parser. Also: the exit codes, mandoc -T lint of the generated page,
# what the bash completion offers, the udev rule's shape and the Debian
# version. Whoever adds a command or an option updates all three files.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

scd=$repo_root/doc/bkspi.1.scd
bash_comp=$repo_root/contrib/completion/bkspi.bash
zsh_comp=$repo_root/contrib/completion/_bkspi
rule=$repo_root/contrib/60-bkspi-ch341a.rules

newcase docs
run --help
expect_rc 0 "--help (exit)"
cp out.txt help.txt

# ---- the names, one a line, sorted --------------------------------------

# From --help: the command lines under "commands:", the option lines under
# "options:".
sed -n '/^commands:/,/^$/p' help.txt | sed -nE 's/^  ([a-z][a-z0-9-]*)( .*)?$/\1/p' | sort -u >help.cmds
sed -n '/^options:/,/^$/p' help.txt |
	sed -nE 's/^ +(-[A-Za-z], )?(--[a-z][a-z0-9-]*).*/\2/p' | sort -u >help.long
sed -n '/^options:/,/^$/p' help.txt | sed -nE 's/^ +(-[A-Za-z]), --.*/\1/p' | sort -u >help.short

# From the man page: "*name*" entries opening a line in COMMANDS, "*-x*" and
# "*--name*" in the entry lines of OPTIONS.
section() { sed -n "/^# $1\$/,/^# /p" "$scd"; }
section COMMANDS | sed -nE 's/^\*([a-z][a-z0-9-]*)\*.*/\1/p' | sort -u >man.cmds
section OPTIONS | grep -E '^\*-' | grep -oE '\*--[a-z][a-z0-9-]*\*' | tr -d '*' | sort -u >man.long
section OPTIONS | grep -E '^\*-' | grep -oE '\*-[A-Za-z]\*' | tr -d '*' | sort -u >man.short

# From the bash completion: its `commands` and `opts` strings.
bash_var() { # NAME: the words of `local NAME="..."` (may span lines)
	awk -v name="$1" '
		!on && index($0, "local " name "=\"") { on = 1; sub(".*local " name "=\"", "") }
		on { s = $0; if (sub("\".*", "", s)) { print s; exit } print s }' "$bash_comp" | tr -s ' \t' '\n\n' | sed '/^$/d'
}
bash_var commands | sort -u >bash.cmds
bash_var opts | grep -E '^--' | sort -u >bash.long
bash_var opts | grep -E '^-[A-Za-z]$' | sort -u >bash.short

# From the zsh completion: the `commands` array and the _arguments specs.
sed -n '/^commands=(/,/^)/p' "$zsh_comp" | sed -nE "s/^[[:space:]]*'([a-z][a-z0-9-]*):.*/\1/p" | sort -u >zsh.cmds
sed -n '/^_arguments/,/&& ret=0/p' "$zsh_comp" | grep -oE -- "--[a-z][a-z0-9-]*" | sort -u >zsh.long
sed -n '/^_arguments/,/&& ret=0/p' "$zsh_comp" | grep -oE -- "[{]-[A-Za-z]" | tr -d '{' | sort -u >zsh.short

for f in help.cmds help.long help.short man.cmds man.long man.short bash.cmds bash.long bash.short \
	zsh.cmds zsh.long zsh.short; do
	check "parsed $f" "found no names (the parser in this test or the file's layout changed)" test -s "$f"
done

# agree KIND WHERE: every name in help.KIND is in WHERE.KIND and back.
agree() {
	for _n in $(comm -23 "help.$1" "$2.$1"); do
		fail "$2 lacks $_n" "bkspi --help lists it; add it to $3"
	done
	for _n in $(comm -13 "help.$1" "$2.$1"); do
		fail "$2 has $_n" "bkspi --help does not list it; remove it from $3 or add it to the tool"
	done
	_both=$(comm -12 "help.$1" "$2.$1" | wc -l)
	passed=$((passed + _both))
}
for kind in cmds long short; do
	agree $kind man doc/bkspi.1.scd
	agree $kind bash contrib/completion/bkspi.bash
	agree $kind zsh contrib/completion/_bkspi
done

# ---- exit codes ----------------------------------------------------------

sed -n '/^exit codes:/,/^$/p' help.txt | grep -oE '(^|[ ,:])[0-9]+ ' | tr -dc '0-9\n ' | tr -s ' ' '\n' |
	sed '/^$/d' | sort -n -u >help.codes
section 'EXIT STATUS' | sed -nE 's/^\|  ([0-9]+)$/\1/p' | sort -n -u >man.codes
check "exit codes parsed" "none in --help" test -s help.codes
check "man page exit codes are --help's" "--help: $(tr '\n' ' ' <help.codes); man: $(tr '\n' ' ' <man.codes)" \
	same help.codes man.codes

# ---- the generated man page ----------------------------------------------

if command -v scdoc >/dev/null 2>&1 && command -v mandoc >/dev/null 2>&1; then
	if scdoc <"$scd" | awk -f "$repo_root/doc/tidy.awk" >bkspi.1; then
		mandoc -T lint bkspi.1 >lint.txt 2>&1
		if [ -s lint.txt ]; then
			fail "mandoc -T lint" "$(head -n 1 lint.txt)"
		else
			pass
		fi
		bs=$(printf '\b')
		mandoc -T ascii bkspi.1 2>/dev/null | sed "s/.$bs//g" >man.txt
		for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS 'EXIT STATUS' WIRING FILES ENVIRONMENT EXAMPLES; do
			if grep -q "^$s" man.txt; then pass; else fail "man page has $s"; fi
		done
		for w in BKSPI_PROGRESS XDG_STATE_HOME backups/ sim-flash.bin 60-bkspi-ch341a.rules P21 CEN; do
			if grep -q -- "$w" man.txt; then pass; else fail "man page mentions $w"; fi
		done
	else
		fail "scdoc" "doc/bkspi.1.scd does not build"
	fi
else
	skip "man page lint" "scdoc or mandoc not installed"
fi

# ---- what the bash completion offers -------------------------------------

if command -v bash >/dev/null 2>&1; then
	check "bash completion parses" "bash -n fails" bash -n "$bash_comp"
	mkdir -p files/sub
	: >files/a.bin
	: >files/notes.txt
	cd files || exit 1
	# complete LINE: what the completion offers at the end of LINE.
	complete_at() {
		bash -c '. "$1"; COMP_LINE=$2; COMP_POINT=${#2}; COMPREPLY=(); _bkspi 2>/dev/null
			printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' sh "$bash_comp" "$1"
	}
	offers() { # NAME LINE EXPECTED
		_got=$(complete_at "$2" | sed 's/ $//')
		if [ "$_got" = "$3" ]; then pass; else fail "bash completion: $1" "'$2' offers '$_got', expected '$3'"; fi
	}
	offers "commands" "bkspi " "$(tr '\n' ' ' <../help.cmds | sed 's/ $//')"
	offers "command prefix" "bkspi -p sim ver" "verify"
	offers "option prefix" "bkspi --no-" "--no-backup --no-reset --no-verify"
	offers "programmers" "bkspi -p " "ch341a ch347 sim sim347"
	offers "programmers after =" "bkspi --programmer=" "ch341a ch347 sim sim347"
	offers "targets" "bkspi --target " "beken spi"
	offers "yes/no" "bkspi --keep-rf " "no yes"
	offers "yes/no after =" "bkspi --keep-tuya-config=y" "yes"
	offers ".bin files first" "bkspi write " "a.bin sub"
	offers "any file when no .bin" "bkspi read n" "notes.txt"
	offers "sim image" "bkspi --sim-image " "a.bin sub"
	offers "sim settings" "bkspi --sim-config st" "stuck-wip= style="
	offers "sim setting values" "bkspi --sim-config style=echo,wire=c" "cen-open cs-open"
	offers "no FILE for erase" "bkspi -p sim erase " ""
	offers "one FILE only" "bkspi write a.bin " ""
	offers "option values are skipped" "bkspi --label x --offset 4K " "$(tr '\n' ' ' <../help.cmds | sed 's/ $//')"
	cd .. || exit 1
else
	skip "bash completion" "bash not installed"
fi

if command -v zsh >/dev/null 2>&1; then
	check "zsh completion parses" "zsh -n fails" zsh -n "$zsh_comp"
else
	skip "zsh completion parses" "zsh not installed"
fi

# ---- the udev rule ---------------------------------------------------------

rules=$(grep -vE '^[[:space:]]*(#|$)' "$rule")
# systemd 258 drops a whole line naming a non-system group: uaccess apart.
if echo "$rules" | grep 'uaccess' | grep -q 'GROUP='; then
	fail "udev: uaccess and GROUP on separate lines" "a line has both"
else
	pass
fi
for id in 5512; do
	if echo "$rules" | grep "idProduct}==\"$id\"" | grep -q 'TAG+="uaccess"'; then pass; else fail "udev: 1a86:$id uaccess"; fi
	if echo "$rules" | grep "idProduct}==\"$id\"" | grep -q 'GROUP="plugdev", MODE="0660"'; then
		pass
	else
		fail "udev: 1a86:$id plugdev"
	fi
done
# uaccess is applied in 73-seat-late.rules: the rule must sort before it.
num=$(basename "$rule" | sed -nE 's/^([0-9]+)-.*/\1/p')
check "udev rule sorts before 73-seat-late.rules" "number '$num'" test "${num:-99}" -lt 73

# ---- the Debian version is the tool's ------------------------------------------

if [ -f "$repo_root/debian/changelog" ]; then
	deb_version=$(sed -nE '1s/^bkspi \(([^)]*)\).*/\1/p' "$repo_root/debian/changelog")
	run --version
	check "debian/changelog version is bkspi --version's" "changelog '$deb_version', tool '$(cat out.txt)'" \
		test "bkspi $deb_version" = "$(cat out.txt)"
fi

finish
