# Sourced by the benchmark scripts: build_targets <build dir> <targets...> builds the release preset's
# targets (configuring it first) when <build dir> is the preset's build/release, else the given
# build directory's targets.
build_targets() {
  local build=$1
  shift
  if [ "$build" = "$root/build/release" ]; then
    cmake --preset release >/dev/null
    cmake --build --preset release --target "$@" >/dev/null
  else
    cmake --build "$build" --target "$@" >/dev/null
  fi
}
