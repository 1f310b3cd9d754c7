# bash completion for annals(1), installed by make install as
# $(PREFIX)/share/bash-completion/completions/annals.
#
# Commands, options and the values an option lists (--by day|week|...)
# are read from the program's own help, annals --help and annals COMMAND
# --help, so they follow the program instead of a copy here.  Where the
# help names an actor (CODE, PREFIX), the names come from the daemon
# (annals actors PREFIX) through the -s/-H/--token-file on the command
# line; when no daemon answers there is simply nothing to offer.  FILE,
# SOCKET and DIR complete paths, and COMMAND (of annals help) commands.

# The words of the help of "$@" into _annals_words: for a command
# (program and command name) its usage without the "usage: annals CMD"
# and "  annals CMD" heads; for the program alone, its usage line and
# its options, without the commands.
_annals_help()
{
	local text

	if (($# > 1)); then
		text=$("$@" --help 2>/dev/null |
		    sed -e 's/^usage: annals [^ ]*//' -e 's/^  annals [^ ]*//')
	else
		text=$("$@" --help 2>/dev/null |
		    sed -n -e '1s/^usage: annals//p' -e '/^options:/,/^$/p')
	fi
	read -r -d '' -a _annals_words <<< "$text"
}

# Parse the help of "$@": _annals_opts gets the long options,
# _annals_spec[OPTION] what an option takes (empty: nothing),
# _annals_pos the positional arguments in order, _annals_cmds the
# commands (global help only).
_annals_parse()
{
	local i w next n

	_annals_help "$@"
	_annals_opts=()
	_annals_pos=()
	_annals_spec=()
	_annals_alias=()
	n=${#_annals_words[@]}
	for ((i = 0; i < n; i++)); do
		w=${_annals_words[i]#\[}
		next=${_annals_words[i + 1]}
		case $w in
		-[A-Za-z],)
			# "-s, --socket": the short form of the next option.
			_annals_alias[${w%,}]=$next
			;;
		--[a-z]*)
			w=${w%%[],.]*}
			[[ -v _annals_spec[$w] ]] || _annals_opts+=("$w")
			if [[ ${_annals_words[i]} != *] && $next == [A-Za-z]* ]]
			then
				# An option's value: keep the one that lists
				# its choices (--format jsonl|csv|table).
				[[ ${_annals_spec[$w]} == *"|"* ]] ||
				    _annals_spec[$w]=$next
				((i++))
			else
				[[ -v _annals_spec[$w] ]] || _annals_spec[$w]=
			fi
			;;
		"|" | "" | -)
			;;
		[A-Z]* | \[[A-Z]*)
			_annals_pos+=("$w")
			;;
		esac
	done
}

# Complete cur as the value spec says: choices, actor names, paths.
_annals_value()
{
	local spec=$1 cur=$2

	spec=${spec#\[}
	case $spec in
	*"|"*[a-z]*)
		spec=${spec%%[]]*}
		spec=${spec%...}
		mapfile -t COMPREPLY < <(compgen -W "${spec//|/ }" -- "$cur")
		;;
	CODE* | PREFIX*)
		_annals_actors "$cur"
		;;
	COMMAND*)
		mapfile -t COMPREPLY < <(compgen -W "${_annals_cmds[*]}" \
		    -- "$cur")
		;;
	KEY,*)
		_annals_keys "$cur"
		;;
	FILE* | SOCKET*)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	DIR*)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		;;
	esac
}

# --fields: the keys of an event (PROTOCOL.md, section 6) after the
# last comma of cur, the keys before it kept and not offered again.
_annals_keys()
{
	local cur=$1 head= k
	local keys="id rev created updated source key start end actors type"
	keys+=" title text place urls tags attrs"

	if [[ $cur == *,* ]]; then
		head=${cur%,*},
		cur=${cur##*,}
	fi
	for k in $keys; do
		[[ ,$head == *,$k,* ]] && continue
		[[ $k == "$cur"* ]] && COMPREPLY+=("$head$k")
	done
	compopt -o nospace 2>/dev/null
}

# The actor names starting with cur, from the daemon; names with spaces
# come back escaped for the command line.
_annals_actors()
{
	local cur=$1 line name q

	# What the user typed, without the quoting of the line.
	cur=${cur#[\'\"]}
	cur=${cur//\\/}
	while IFS= read -r line; do
		name=${line%,*}
		if [[ $name == \"*\" ]]; then
			name=${name:1:-1}
			name=${name//\"\"/\"}
		fi
		printf -v q '%q' "$name"
		COMPREPLY+=("$q")
	done < <("${_annals_conn[@]}" --format csv actors -- "$cur" \
	    2>/dev/null | sed -e 1d -e 1000q)
}

_annals()
{
	local cur prev prog cmd cmdi i w npos spec
	local -a _annals_words _annals_opts _annals_pos _annals_cmds
	local -a _annals_conn
	local -A _annals_spec _annals_alias

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	prog=${COMP_WORDS[0]}

	# The commands: the words after "  annals" in the global help.
	mapfile -t _annals_cmds < <("$prog" --help 2>/dev/null |
	    sed -n 's/^  annals \([a-z][a-z-]*\).*/\1/p' | uniq)

	# The command is the first word that names one; the words before
	# it are global options, which also go to annals actors.
	cmd=
	cmdi=$COMP_CWORD
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ " ${_annals_cmds[*]} " == *" $w "* ]]; then
			cmd=$w
			cmdi=$i
			break
		fi
	done
	_annals_conn=("$prog" "${COMP_WORDS[@]:1:cmdi - 1}")

	if [[ -z $cmd ]]; then
		_annals_parse "$prog"
		[[ -v _annals_alias[$prev] ]] && prev=${_annals_alias[$prev]}
		if [[ -n $prev && -n ${_annals_spec[$prev]} ]]; then
			_annals_value "${_annals_spec[$prev]}" "$cur"
		elif [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W \
			    "${_annals_opts[*]}" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W \
			    "${_annals_cmds[*]}" -- "$cur")
		fi
		return 0
	fi

	_annals_parse "$prog" "$cmd"
	if [[ $prev == --* && -n ${_annals_spec[$prev]} ]] &&
	    ((COMP_CWORD - 1 > cmdi)); then
		_annals_value "${_annals_spec[$prev]}" "$cur"
		return 0
	fi
	if [[ $cur == -?* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${_annals_opts[*]}" \
		    -- "$cur")
		return 0
	fi
	# Which positional argument this is: the words after the command
	# that are neither options nor their values.
	npos=0
	for ((i = cmdi + 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == --* ]]; then
			[[ -n ${_annals_spec[$w]} ]] && ((i++))
		elif [[ $w != -?* ]]; then
			((npos++))
		fi
	done
	spec=
	if ((npos < ${#_annals_pos[@]})); then
		spec=${_annals_pos[npos]}
	elif ((${#_annals_pos[@]} > 0)) &&
	    [[ ${_annals_pos[-1]} == *...* ]]; then
		spec=${_annals_pos[-1]}
	fi
	_annals_value "$spec" "$cur"
	return 0
}

complete -F _annals annals
