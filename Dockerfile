# --- build: install everything, compile, then drop the dev dependencies ---
# Node 24, the current LTS (Node 20 is past its end of life). Its npm 11 applies
# package.json "allowScripts", so the install script we deny there does not run.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused when only sources change.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

# --- runtime: compiled code and production dependencies only ---
FROM node:24-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
# Files stay owned by root, so the app (running as `node`) cannot modify its own code.
# No PostgreSQL binaries in here: embedded-postgres is a dev dependency, so the prune above
# drops it; containers always get DATABASE_URL, and the app only imports the launcher without.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Node's built-in fetch, because the slim image has neither curl nor wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Memory under load (bench/README.md "Memory"): no pretenuring and no page
# promotion, so a request's objects that are still in flight at a scavenge are
# not moved to the old generation wholesale; Node's 16 MB young generation; and
# the old generation grows by half its live size between full collections
# instead of up to four times. The same flags as `npm start`;
# test/deployment.spec.ts checks.
CMD ["node", "--max-semi-space-size=16", "--no-allocation-site-pretenuring", "--no-page-promotion", "--heap-growing-percent=50", "dist/apps/api/apps/api/src/main.js"]
