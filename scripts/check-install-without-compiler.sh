#!/usr/bin/env bash
# Installs the packed certified the way a user does (npm install -g of the tarball) on a PATH with
# no compiler, make or Python, so that the optional native package pkcs11js cannot be built, and
# checks that the install still succeeds and the tool works: everything but token keys, which it
# refuses on one line naming the missing PKCS#11 support.
#
# Usage: npm run build && bash scripts/check-install-without-compiler.sh
# It needs the npm registry (or npm's cache) for certified's dependencies; about 15 s.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -f "$root/dist/bundle/cli.cjs" ] || { echo "check-install: run npm run build first" >&2; exit 2; }
node="$(command -v node)"
npm_cli="$(readlink -f "$(command -v npm)")"
work="$(mktemp -d "${TMPDIR:-/tmp}/certified-install-XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
fail() { echo "check-install: $*" >&2; exit 1; }

# The tarball npm publishes (dist/ is built already: no prepare script).
(cd "$root" && npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/certified-*.tgz)"

# A PATH with node alone: no g++, cc, make or python3 for node-gyp.
mkdir "$work/bin"
ln -s "$node" "$work/bin/node"
for tool in g++ c++ cc make python3; do
  PATH="$work/bin" command -v "$tool" >/dev/null 2>&1 && fail "$tool is still on the restricted PATH"
done

if ! PATH="$work/bin" "$node" "$npm_cli" install -g --prefix "$work/prefix" --prefer-offline --no-audit --no-fund \
  --loglevel=info "$tarball" >"$work/install.log" 2>&1; then
  cat "$work/install.log" >&2
  fail "npm install failed where pkcs11js cannot be built"
fi
installed="$work/prefix/lib/node_modules/certified"
grep -q 'run pkcs11js@.* install' "$work/install.log" || fail "npm did not try to build pkcs11js (see $work/install.log)"
[ ! -e "$installed/node_modules/pkcs11js" ] || fail "pkcs11js is installed: was it built after all?"

certified() { NO_COLOR=1 "$work/prefix/bin/certified" "$@"; }
export CERTIFIED_ROOT_PASSWORD='install check password'
mkdir "$work/ca" && cd "$work/ca"
certified --version >/dev/null
certified --ca CN="Install Check CA" >/dev/null 2>&1 || fail "certified --ca failed without pkcs11js"
certified CN=web.example.test >/dev/null 2>&1 || fail "issuing failed without pkcs11js"
certified ls | grep -q web.example.test || fail "certified ls does not list web.example.test"

mkdir "$work/token" && cd "$work/token"
if CERTIFIED_PKCS11_PIN=1234 CERTIFIED_PKCS11_MODULE="$work/libsofthsm2.so" certified --ca --root-key 'pkcs11:token=ca;object=root-ca' CN="Token CA" >"$work/out" 2>"$work/err"; then
  fail "a token key was accepted without pkcs11js"
fi
[ "$(wc -l <"$work/err")" -eq 1 ] || fail "the refusal is not one line: $(cat "$work/err")"
grep -q 'the PKCS#11 support (the optional package pkcs11js' "$work/err" || fail "the refusal does not name the missing support: $(cat "$work/err")"
[ ! -e "$work/token/etc" ] || fail "the refused command wrote etc/"

echo "check-install: installed without a compiler (pkcs11js left out), the tool works and refuses token keys on one line ($((SECONDS - started)) s)"
