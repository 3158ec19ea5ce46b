# syntax=docker/dockerfile:1

# Node.js 26 is the active LTS line (promoted in October 2026). Build and runtime use the same major, so whatever
# npm installed for this platform and ABI in the build stage runs unchanged in the runtime stage.
ARG NODE_VERSION=26

# ---- build: install every dependency, compile both apps, then drop the dev dependencies --------------------------
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app

# Manifests first, so this layer (the slow one) is reused until package.json or the lockfile changes.
COPY package.json package-lock.json ./
# `npm ci` fails against our registry mirror; `npm install` with the committed lockfile resolves the same versions.
# --ignore-scripts: no dependency runs code at install time (the build needs none; platform binaries such as SWC's and
# esbuild's come as optional dependencies), and @scarf/scarf's install analytics stay off.
ENV SCARF_ANALYTICS=false
RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund --ignore-scripts

COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

# ---- runtime: production dependencies and compiled output only, run as the unprivileged `node` user ------------
FROM node:${NODE_VERSION}-slim AS runtime
# NO_COLOR: Nest's logger then writes plain lines, which log collectors read better than ANSI colour codes.
ENV NODE_ENV=production \
    NO_COLOR=1
WORKDIR /app

# Copied as root and left root-owned: the `node` user can read and run the code but not rewrite it.
# package.json stays because it declares `"type": "module"`, which makes Node load dist/**/*.js as ES modules.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

USER node
# Nest's shutdown hooks close the app on SIGTERM (Redis connections are QUIT), so `node` runs as PID 1, not npm.
STOPSIGNAL SIGTERM

# ---- worker: `docker build --target worker` ----------------------------------------------------------------------
FROM runtime AS worker
ENV WORKER_PORT=3001 WORKER_MANAGEMENT_PORT=9001
# 3001: bare /health, reports, /notifications (bearer token). 9001: /metrics and health details; publish it only to
# the monitoring network.
EXPOSE 3001 9001
# Slim images have no curl: Node's built-in fetch asks /health, which answers 503 while Redis is down.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.WORKER_PORT + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/booking-worker/apps/booking-worker/src/main.js"]

# ---- api: `docker build --target api`, and the default target ---------------------------------------------------
FROM runtime AS api
ENV PORT=3000 MANAGEMENT_PORT=9000
# 3000: the API and bare /health. 9000: /metrics, /docs and health details; publish it only to the monitoring network.
EXPOSE 3000 9000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/booking-api/apps/booking-api/src/main.js"]
