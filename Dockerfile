# One image for every deployable of the platform: the gateway, the seven backend services and the
# Temporal worker. The same image runs as any of them; what it runs is chosen at run time by
#   - the SERVICE variable (build arg or env): `node dist/services/$SERVICE/main.js`, or
#     `node dist/workflows/worker.js` for SERVICE=workflows-worker (see CMD), or
#   - an explicit command, as docker-compose.yml does:  node dist/services/users/main.js
# See docs/deploy.md.
#
# Only classic Dockerfile syntax is used (no RUN --mount, no heredocs), so it builds with BuildKit
# and with the legacy builder that docker-compose v1 drives.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# base: Node plus the npm that wrote package-lock.json (npm 11 honours package.json's
# `allowScripts` install-script policy; the npm 10 bundled with Node 20 would ignore it).
# Build with --build-arg NPM_VERSION= to keep the bundled npm.
FROM ${NODE_IMAGE} AS base
ARG NPM_VERSION=11.19.1
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
RUN if [ -n "$NPM_VERSION" ]; then npm install --global "npm@${NPM_VERSION}" && npm cache clean --force; fi
WORKDIR /app

# ---------------------------------------------------------------------------------------------
# deps: every dependency (dev ones included: typescript, @types/*) for the build.
FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci && npm cache clean --force

# ---------------------------------------------------------------------------------------------
# build: compile lib/, services/, workflows/ and gen/ to dist/ (tsconfig.build.json leaves tests out),
# and the browser app to web/dist (static files the gateway serves at /).
FROM deps AS build
COPY . .
RUN npx tsc -p tsconfig.build.json \
 && test -d dist/services \
 && find dist -name '*.test.js' -delete \
 && npx vite build --config web/vite.config.ts \
 && test -f web/dist/index.html

# ---------------------------------------------------------------------------------------------
# prod-deps: production dependencies only, installed apart so that no dev tool or npm cache
# reaches the runtime image.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# ---------------------------------------------------------------------------------------------
# runtime: what runs in production.
FROM ${NODE_IMAGE} AS runtime

# ca-certificates: TLS to managed Postgres, Temporal Cloud or Elastic Cloud from native code
# (Temporal's Rust core reads the system store; Node itself carries its own).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    NODE_OPTIONS=--enable-source-maps

# Files stay owned by root and read-only for the process; it runs as the image's `node` user.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
# dist/workflows/*.js is also the input of the Temporal worker's run-time webpack bundle
# (workflowsPath resolves to the compiled .js; the source maps carry the .ts sources).
COPY --from=build /app/dist ./dist
# the web app; the gateway serves it from GATEWAY_WEB_DIR (default web/dist, relative to /app)
COPY --from=build /app/web/dist ./web/dist

USER node

# Which deployable this container is (gateway, users, catalog, booking, payments, search,
# notifications, reviews, workflows-worker). Read by CMD and HEALTHCHECK.
ARG SERVICE=""
ENV SERVICE=${SERVICE}

# gateway 8080; backends 50051-50059 (lib/services.ts). Documentation only: compose publishes.
EXPOSE 8080 50051-50059

# Health: the gateway answers GET /healthz; a backend answers the gRPC health service, asked here
# over the Connect protocol (POST /grpc.health.v1.Health/Check, JSON body {}) which must say
# {"status":"SERVING"}. The port is <SERVICE>_PORT, else the default of lib/services.ts. A
# container with no port (the Temporal worker) has nothing to probe: its liveness is its process.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD node -e ' \
  const s = process.env.SERVICE || ""; \
  const d = { gateway: 8080, users: 50051, catalog: 50052, booking: 50053, payments: 50054, search: 50055, notifications: 50056, reviews: 50057, admission: 50058, tickets: 50059 }; \
  const p = process.env[s.toUpperCase() + "_PORT"] || d[s]; \
  if (!p) process.exit(0); \
  const g = s === "gateway"; \
  const o = { signal: AbortSignal.timeout(4000) }; \
  if (!g) Object.assign(o, { method: "POST", headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body: "{}" }); \
  fetch("http://127.0.0.1:" + p + (g ? "/healthz" : "/grpc.health.v1.Health/Check"), o) \
    .then(async (r) => { const t = await r.text(); if (!r.ok || (!g && JSON.parse(t).status !== "SERVING")) throw new Error(r.status + " " + t); }) \
    .then(() => process.exit(0), (e) => { console.error(String(e)); process.exit(1); }); \
'

# `docker run -e SERVICE=users IMAGE` runs a service (SERVICE=workflows-worker the worker);
# compose passes the same commands explicitly.
CMD ["/bin/sh", "-c", "case \"${SERVICE:?set SERVICE: gateway, users, ..., workflows-worker}\" in workflows-worker) exec node dist/workflows/worker.js ;; *) exec node \"dist/services/$SERVICE/main.js\" ;; esac"]
