#!/bin/sh
# The browser tests (tests/web/run.mjs) in headless Chromium from Debian,
# driven by puppeteer-core from npm, installed into BUILD/web-test/npm
# (no browser is downloaded). As root, a missing chromium is installed;
# otherwise the tests skip with one line. BKSPI_WEB_BENCH=1 prints the
# speed line instead. Usage: run.sh BUILD
set -u
build=$(cd "${1:-build}" && pwd) || exit 1
here=$(cd "$(dirname "$0")" && pwd)
npm_dir=$build/web-test/npm
# 0 passed, 0 failed, 1 skipped: the summary tests/run.sh and make read.
skip() { echo "skip: web: $*"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "web: installing chromium" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1
fi
[ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (apt-get install chromium)"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || skip "no node/npm (apt-get install nodejs npm)"
if [ ! -d "$npm_dir/node_modules/puppeteer-core" ]; then
	mkdir -p "$npm_dir"
	[ -f "$npm_dir/package.json" ] || echo '{"private":true}' >"$npm_dir/package.json"
	(cd "$npm_dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --silent puppeteer-core@25 >/dev/null 2>&1) ||
		skip "puppeteer-core could not be installed from npm"
fi
if [ "${BKSPI_WEB_BENCH:-0}" = 1 ]; then
	exec node "$here/run.mjs" "$build" "$npm_dir" --bench "$build/bkspi"
fi
exec node "$here/run.mjs" "$build" "$npm_dir" ${BKSPI_WEB_SHOTS:+--screenshots "$BKSPI_WEB_SHOTS"} ${BKSPI_WEB_ONLY:+--only "$BKSPI_WEB_ONLY"}
