#!/usr/bin/env bash
# Builds the real Kubernetes control plane used by the control-plane and e2e tests (kube-apiserver,
# kube-controller-manager, etcd) plus helm, from the Go modules checked in next to this script.
# Binaries land in ${TURNOUT_CACHE:-$HOME/.cache/turnout}/k8s-<version>/bin, outside the repo, so one
# machine builds them once. Each binary has a stamp holding a hash of the sources it was built from:
# a matching stamp means "already built", a changed go.mod/go.sum/main.go means "rebuild".
# Progress goes to stderr; the bin dir is the only thing printed on stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[k8s-build] %s\n' "$*" >&2; }

# module_version <module dir> <module path>: the version that dir's go.mod requires.
module_version() {
  awk -v mod="$2" '{ sub(/^require[ \t]+/, "") } $1 == mod { print $2; exit }' "$here/$1/go.mod"
}

k8s_version="$(module_version kubernetes k8s.io/kubernetes)"
if [[ -z "$k8s_version" ]]; then
  log "cannot find the k8s.io/kubernetes version in $here/kubernetes/go.mod"
  exit 1
fi
cache_root="${TURNOUT_CACHE:-$HOME/.cache/turnout}"
bin_dir="$cache_root/k8s-$k8s_version/bin"
mkdir -p "$bin_dir"

# Two test processes starting at once must not build (and overwrite) the same binary together.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$bin_dir/.build.lock"
  flock 9
fi

# Static binaries, no VCS stamping (the module cache has no .git). -mod=readonly: the checked-in
# go.mod/go.sum are complete, and a build must never rewrite them behind the developer's back.
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"

# What a binary is built from: the module sources and the link flags. Not the Go version: a newer
# local Go alone is no reason to spend 20 minutes rebuilding.
source_hash() {
  local mod_dir="$1" ldflags="$2"
  (cd "$mod_dir" && shopt -s nullglob && cat go.mod go.sum ./*.go && printf '%s' "$ldflags") | sha256sum | cut -d' ' -f1
}

# build_one <binary name> <module dir under scripts/k8s> <package path> [extra ldflags]
build_one() {
  local name="$1" mod_dir="$here/$2" pkg="$3" ldflags="-s -w ${4:-}"
  local stamp="$bin_dir/.$name.stamp" want
  want="$(source_hash "$mod_dir" "$ldflags")"
  if [[ -x "$bin_dir/$name" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "$name: up to date"
    return
  fi
  log "$name: building $pkg (first build takes several minutes)"
  local started=$SECONDS tmp="$bin_dir/.$name.tmp.$$"
  # Build to a temp name and rename, so an interrupted build never leaves a half-written binary.
  if ! (cd "$mod_dir" && go build -trimpath -ldflags="$ldflags" -o "$tmp" "$pkg"); then
    rm -f "$tmp"
    log "$name: build FAILED"
    return 1
  fi
  mv -f "$tmp" "$bin_dir/$name"
  printf '%s\n' "$want" >"$stamp"
  log "$name: built in $((SECONDS - started))s"
}

# Version stamping, as upstream's release builds do (hack/lib/version.sh, helm's Makefile). Without
# it the apiserver reports v0.0.0-master and helm rejects charts with a `kubeVersion` constraint.
k8s_minor="$(cut -d. -f2 <<<"$k8s_version")"
k8s_ldflags=""
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean"
done
helm_version="$(module_version helm helm.sh/helm/v3)"
helm_k8s_minor="$(module_version helm k8s.io/client-go | cut -d. -f2)"
helm_ldflags="-X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$helm_k8s_minor"
done

build_one etcd etcd .
build_one kube-apiserver kubernetes k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
build_one kube-controller-manager kubernetes k8s.io/kubernetes/cmd/kube-controller-manager "$k8s_ldflags"
build_one helm helm helm.sh/helm/v3/cmd/helm "$helm_ldflags"

printf '%s\n' "$bin_dir"
