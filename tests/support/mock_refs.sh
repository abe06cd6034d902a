#!/usr/bin/env bash
# The mock references, installed once from the npm registry into a cache dir
# (java and node are on the machine): WireMock 3.13.2 (its standalone jar),
# Prism 5 (OpenAPI), mountebank 2.9.1 and the Pact CLI (pact-stub-server and
# friends). Prints nothing on a second run; the tests find them under
# $DEVENV_MOCK_REFS (default /var/cache/devenv-ci/mock-refs):
#   node_modules/wiremock/build/wiremock-standalone-3.13.2.jar
#   node_modules/.bin/{prism,mb,pact-stub-server}
set -euo pipefail

dir="${DEVENV_MOCK_REFS:-/var/cache/devenv-ci/mock-refs}"
pkgs=(wiremock@3.13.2 @stoplight/prism-cli@5.16.0 mountebank@2.9.1 @pact-foundation/pact-cli@18.1.2)
stamp="$dir/.installed-$(printf '%s\n' "${pkgs[@]}" | sha256sum | cut -c1-16)"

if [[ -e "$stamp" ]]; then
    exit 0
fi
command -v java >/dev/null || { echo "mock_refs: java is needed for WireMock" >&2; exit 1; }
command -v npm >/dev/null || { echo "mock_refs: npm is needed" >&2; exit 1; }
mkdir -p "$dir"
echo "mock_refs: npm install ${pkgs[*]} into $dir"
npm install --no-audit --no-fund --loglevel=error --prefix "$dir" "${pkgs[@]}" >/dev/null
for bin in prism mb pact-stub-server; do
    "$dir/node_modules/.bin/$bin" --version >/dev/null
done
test -f "$dir/node_modules/wiremock/build/wiremock-standalone-3.13.2.jar"
touch "$stamp"
