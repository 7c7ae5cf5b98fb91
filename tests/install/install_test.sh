#!/usr/bin/env bash
# The SDK as a user gets it: installs the build tree into a temporary prefix, checks what must be
# there, then builds an out-of-tree C plugin twice against the installed SDK only, with its
# CMakeLists.txt (find_package(syncplugin CONFIG)) and with its Makefile (pkg-config; without a
# Makefile, a plain cc command using pkg-config --cflags syncplugin), and runs the installed
# syncplugin-harness on both libraries. Also builds a C++ consumer of syncplugin::cxx, and asks the
# installed synchost for its plugins (found by default) and for the out-of-tree one.
#
#   install_test.sh BUILD_DIR PLUGIN_SOURCE_DIR [HARNESS_ARGS...]
#
# PLUGIN_SOURCE_DIR holds the plugin's C sources, a CMakeLists.txt that works as a top-level
# project, optionally a Makefile, and <id>.json (its manifest, found beside the library by the
# harness). HARNESS_ARGS are the plugin's known-good --config, --map and --sample options.
# The install layout comes from the environment (set by tests/install/CMakeLists.txt): SP_BINDIR,
# SP_INCLUDEDIR, SP_CMAKEDIR, SP_PKGCONFIGDIR, SP_PLUGINDIR, SP_MANIFESTDIR, all relative to the
# prefix; CMAKE (the cmake that built the tree); SP_SANITIZE (non-empty in sanitizer builds).
# No network. Exit status non-zero on any failure.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: install_test.sh BUILD_DIR PLUGIN_SOURCE_DIR [HARNESS_ARGS...]" >&2; exit 2; }
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
shift 2
cmake=${CMAKE:-cmake}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sp-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
prefix=$tmp/prefix
say() { echo "install_test: $*"; }
die() { echo "install_test: FAIL: $*" >&2; exit 1; }

say "installing $build into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; die "cmake --install failed"; }

missing=0
for f in "$SP_INCLUDEDIR/syncplugin/syncplugin.h" "$SP_INCLUDEDIR/syncplugin/syncplugin.hpp" \
         "$SP_CMAKEDIR/syncpluginConfig.cmake" "$SP_CMAKEDIR/syncpluginConfigVersion.cmake" \
         "$SP_CMAKEDIR/syncpluginTargets.cmake" "$SP_PKGCONFIGDIR/syncplugin.pc" \
         "$SP_BINDIR/synchost" "$SP_BINDIR/syncplugin-harness" \
         "$SP_PLUGINDIR/libpinterest_conversions.so" "$SP_PLUGINDIR/pinterest_conversions.json" \
         "$SP_MANIFESTDIR/pinterest_conversions.json"; do
  if [ -e "$prefix/$f" ]; then say "installed $f"; else echo "install_test: FAIL: $f is not installed" >&2; missing=1; fi
done
[ "$missing" -eq 0 ] || die "the install is incomplete"

# Only the temporary prefix may be searched: never a copy of the SDK installed on this machine.
export PKG_CONFIG_LIBDIR=$prefix/$SP_PKGCONFIGDIR PKG_CONFIG_PATH=
raw=$(pkg-config --cflags syncplugin) || die "pkg-config --cflags syncplugin failed"
read -r cflags <<<"$raw"  # without pkg-config's trailing space
[ "$cflags" = "-I$prefix/$SP_INCLUDEDIR" ] || die "pkg-config --cflags syncplugin gave '$cflags', not -I$prefix/$SP_INCLUDEDIR"
cmake_args=(-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF -DCMAKE_BUILD_TYPE=Release)

# configure_and_build NAME SOURCE_DIR: an out-of-tree CMake project against the prefix.
configure_and_build() {
  local dir=$tmp/$1
  "$cmake" -S "$2" -B "$dir" "${cmake_args[@]}" >"$dir.log" 2>&1 && "$cmake" --build "$dir" >>"$dir.log" 2>&1 ||
    { cat "$dir.log"; die "$1: the build against the installed SDK failed"; }
  local found
  found=$(sed -n 's/^syncplugin_DIR:PATH=//p' "$dir/CMakeCache.txt")
  [ "$found" -ef "$prefix/$SP_CMAKEDIR" ] || die "$1: find_package used $found, not the installed package"
  say "$1: built with find_package(syncplugin) from $found"
}

configure_and_build cmake-plugin "$src"
mapfile -t libs < <(find "$tmp/cmake-plugin" -maxdepth 1 -name 'lib*.so')
[ ${#libs[@]} -eq 1 ] || die "cmake-plugin: expected one lib*.so, found ${#libs[@]}"
cmake_lib=${libs[0]}
id=$(basename "$cmake_lib" .so)
id=${id#lib}

cp -r "$src" "$tmp/make-plugin"
rm -rf "$tmp/make-plugin/build" "$tmp/make-plugin"/lib*.so  # only what make builds here counts
if [ -f "$tmp/make-plugin/Makefile" ]; then
  make -C "$tmp/make-plugin" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; die "make-plugin: make (pkg-config) failed"; }
else
  (cd "$tmp/make-plugin" && ${CC:-cc} -std=c99 -fPIC -fvisibility=hidden -O2 $cflags -shared -o "lib$id.so" ./*.c) ||
    die "make-plugin: cc with pkg-config --cflags failed"
fi
make_lib=$tmp/make-plugin/lib$id.so
[ -f "$make_lib" ] || die "make-plugin: no lib$id.so built"
say "make-plugin: built with pkg-config ($cflags)"
if [ -f "$src/$id.json" ] && [ ! -e "$tmp/cmake-plugin/$id.json" ]; then cp "$src/$id.json" "$tmp/cmake-plugin/"; fi

configure_and_build cxx-consumer "$here/cxx_consumer"
"$tmp/cxx-consumer/cxx_consumer" || die "the C++ helper consumer failed"

# The sanitizer builds cannot hold the two checks that measure the process (README "Hardening").
exclude=()
[ -z "${SP_SANITIZE:-}" ] || exclude=(--exclude 'load\.scan_time|leaks\.load_unload_loop')
harness=$prefix/$SP_BINDIR/syncplugin-harness
for lib in "$cmake_lib" "$make_lib"; do
  say "running the installed harness on $lib"
  "$harness" "$lib" "${exclude[@]}" "$@" >"$tmp/harness.log" 2>&1 || { cat "$tmp/harness.log"; die "the harness failed $lib"; }
  say "harness: $(grep -c '^PASS' "$tmp/harness.log") passed, $(grep -c '^SKIP' "$tmp/harness.log") skipped"
done

synchost=$prefix/$SP_BINDIR/synchost
plugins=$(env -u SYNCHOST_PLUGIN_PATH "$synchost" plugins) || die "installed synchost plugins failed"
grep -q pinterest_conversions <<<"$plugins" || die "installed synchost does not find its plugins by default: $plugins"
env -u SYNCHOST_PLUGIN_PATH "$synchost" describe "$id" --plugin-path "$tmp/cmake-plugin" >/dev/null ||
  die "installed synchost cannot describe the out-of-tree plugin $id"
say "installed synchost finds pinterest_conversions by default and describes $id"
say "PASS"
