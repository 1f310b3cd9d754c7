#!/bin/sh
# Fails when libannals.a or libannals.so (the arguments) defines a global
# symbol not named annals_*: an unprefixed name (date_parse, msg_parse,
# mp_get ...) would collide with one of the same name in a user's program.
status=0
for lib in "$@"; do
	case $lib in
	*.so*)	syms=$(nm -D --defined-only "$lib") ;;
	*)	syms=$(nm -g --defined-only "$lib") ;;
	esac || { echo "exports: nm $lib failed" >&2; exit 1; }
	bad=$(printf '%s\n' "$syms" | awk 'NF == 3 && $3 !~ /^annals_/ {
	    print $3 }')
	if [ -n "$bad" ]; then
		echo "exports: $lib exports names without annals_:" $bad >&2
		status=1
	fi
	if ! printf '%s\n' "$syms" | grep -q ' annals_connect$'; then
		echo "exports: $lib does not export annals_connect" >&2
		status=1
	fi
done
[ $status = 0 ] && echo "exports: $* export only annals_* names"
exit $status
