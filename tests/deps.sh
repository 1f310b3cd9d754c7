#!/bin/sh
# The deps steps of the Makefile (deps, fuzz-deps, bench-deps,
# browser-deps) in one place: check each dependency, then install the
# missing Debian packages with apt-get when root, or name them and fail.
#
#   sh tests/deps.sh [-o] STEP WHY CHECK...
#
# STEP prefixes the "installing" line; WHY begins the message when the
# packages cannot be installed.  With -o the packages are optional (the
# build goes on without them): not having them is said, not a failure.  A CHECK is KIND:NAME:DEB, DEB being
# the package that provides NAME:
#   cmd:NAME:DEB     a command on $PATH
#   pc:NAME:DEB      a pkg-config module (needs pkg-config itself)
#   py:NAME:DEB      a module of Debian's /usr/bin/python3
#   fuzzer:CC:DEB    CC's libFuzzer runtime
optional=""
if [ "$1" = -o ]; then
	optional=1
	shift
fi
step=$1 why=$2
shift 2
missing=""
for check in "$@"; do
	kind=${check%%:*}
	rest=${check#*:}
	name=${rest%:*}
	deb=${rest##*:}
	case $kind in
	cmd)	command -v "$name" >/dev/null 2>&1 ;;
	pc)	command -v pkg-config >/dev/null 2>&1 &&
		    pkg-config --exists "$name" ;;
	py)	/usr/bin/python3 -c "import $name" 2>/dev/null ;;
	fuzzer)	rt=$("$name" --print-runtime-dir 2>/dev/null) &&
		    [ -n "$rt" ] &&
		    [ -f "$rt/libclang_rt.fuzzer-$(uname -m).a" ] ;;
	*)	echo "deps.sh: $check: unknown check" >&2; exit 2 ;;
	esac && continue
	case " $missing " in *" $deb "*) ;; *) missing="$missing $deb" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "$step: installing$missing"
	apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    $missing >/dev/null && exit 0
	[ -n "$optional" ] || exit 1
	echo "$step: could not install$missing: $why" >&2
	exit 0
fi
echo "$why; install them with:" >&2
echo "  sudo apt-get install$missing" >&2
[ -n "$optional" ] && exit 0
exit 1
