# bash completion for bkspi(1)                              -*- shell-script -*-
#
# Commands, options, option values (programmers, targets, yes/no, simulator
# settings) and FILE arguments: .bin files and directories first, any file
# when no .bin matches. Needs nothing from the bash-completion package, so
# it also works when sourced directly.
#
# tests/cli/test_docs.sh checks that `commands` and `opts` below name exactly
# what `bkspi --help` lists. A new command goes into `commands` (and into
# `file_cmds` when it takes a FILE), a new option into `opts` (and into
# `arg_opts` when it takes a value, with its values in _bkspi_values).

_bkspi_files()
{
	local IFS=$'\n'
	COMPREPLY=($(compgen -d -- "$1") $(compgen -f -X '!*.[bB][iI][nN]' -- "$1"))
	[ ${#COMPREPLY[@]} -gt 0 ] || COMPREPLY=($(compgen -f -- "$1"))
	compopt -o filenames 2>/dev/null
}

# _bkspi_values OPTION VALUE: what VALUE, the partial value of OPTION, may
# become, whole.
_bkspi_values()
{
	local sim_keys="style= beken= jedec= sfdp= sr2= wrsr31= protect= protect-sr2=
		entry-fails= wire= wp-locked= stuck-wip= bad-byte= flip-ppm= seed=
		unplug-after= usb-error-at= usb-out-error-at= usb-timeout-at= interrupt-after= interrupt-signal= programmer= cen=
		entry-max-hz= wire-max-hz="
	case $1 in
	-p | --programmer) COMPREPLY=($(compgen -W "ch341a ch347 sim sim347" -- "$2")) ;;
	--cen) COMPREPLY=($(compgen -W "cs1 gpio0 gpio1 gpio2 gpio3 gpio4 gpio5 gpio6 gpio7" -- "$2")) ;;
	--spi-clock) COMPREPLY=($(compgen -W "60M 30M 15M 7.5M 3.75M 1.875M 937.5k 468.75k" -- "$2")) ;;
	-t | --target) COMPREPLY=($(compgen -W "beken spi" -- "$2")) ;;
	--keep-rf | --keep-tuya-config) COMPREPLY=($(compgen -W "yes no" -- "$2")) ;;
	--sim-image | --obk-template) _bkspi_files "$2" ;;
	--backup-dir) COMPREPLY=($(compgen -d -- "$2")) ;;
	--sim-config)
		# K=V pairs separated by commas: complete the last key or value.
		local done=${2%"${2##*,}"} last=${2##*,} vals=
		case $last in
		style=*) vals="echo flush" ;;
		wire=*) vals="ok miso-open miso-short cen-open mosi-open cs-open" ;;
		programmer=*) vals="ch341a ch347t ch347f" ;;
		cen=*) vals="cs1 gpio0 gpio1 gpio2 gpio3 gpio4 gpio5 gpio6 gpio7" ;;
		interrupt-signal=*) vals="INT TERM HUP QUIT" ;;
		beken=* | sfdp=* | sr2=* | wrsr31=* | wp-locked=* | stuck-wip=*) vals="0 1" ;;
		*=*) ;;
		*)
			COMPREPLY=($(compgen -P "$done" -W "$sim_keys" -- "$last"))
			compopt -o nospace 2>/dev/null
			return
			;;
		esac
		COMPREPLY=($(compgen -P "$done${last%%=*}=" -W "$vals" -- "${last#*=}"))
		;;
	esac
}

_bkspi()
{
	local commands="detect read write verify erase enter reset info doctor"
	local file_cmds="read write verify info"
	local opts="-p --programmer -t --target --spi-clock --cen --offset --length --label --backup-dir --confirm
		--no-backup --no-verify --no-reset --force --keep-rf --keep-tuya-config
		--tuya-keys --show-secrets --obk-template --json -q --quiet -v --verbose --sim-image --sim-config -h --help
		-V --version"
	local arg_opts=" -p --programmer -t --target --spi-clock --cen --offset --length --label --backup-dir
		--keep-rf --keep-tuya-config --obk-template --sim-image --sim-config "
	arg_opts=" $(echo $arg_opts) "

	# Words from the line itself: COMP_WORDS splits --opt=value and K=V at
	# '=', which readline treats as a word break.
	local line=${COMP_LINE:0:COMP_POINT} words
	read -ra words <<<"$line"
	[[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
	local n=${#words[@]} cur=${words[${#words[@]} - 1]}
	# readline replaces only the part of cur after its last word break.
	local rlword=${cur##*[=:]}

	local opt= val=
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*} val=${cur#*=}
	elif [ "$n" -ge 2 ] && [[ $arg_opts == *" ${words[n - 2]} "* ]]; then
		opt=${words[n - 2]} val=$cur
	fi
	if [ -n "$opt" ]; then
		[[ $arg_opts == *" $opt "* ]] || return
		_bkspi_values "$opt" "$val"
		local strip=$((${#val} - ${#rlword})) i
		if [ "$strip" -gt 0 ]; then
			for i in "${!COMPREPLY[@]}"; do
				COMPREPLY[i]=${COMPREPLY[i]:strip}
			done
		fi
		return
	fi

	# The command, and how many arguments it has, skipping options and
	# their values.
	local i w cmd= nargs=0 skip=0
	for ((i = 1; i < n - 1; i++)); do
		w=${words[i]}
		if [ "$skip" = 1 ]; then
			skip=0
		elif [[ $w == -* ]]; then
			[[ $w != *=* && $arg_opts == *" $w "* ]] && skip=1
		elif [ -z "$cmd" ]; then
			cmd=$w
		else
			nargs=$((nargs + 1))
		fi
	done

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	elif [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
	elif [[ " $file_cmds " == *" $cmd "* ]] && [ "$nargs" -eq 0 ]; then
		_bkspi_files "$cur"
	fi
}

complete -F _bkspi bkspi
