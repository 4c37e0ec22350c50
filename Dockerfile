# --- build: install everything, compile, then drop the dev dependencies ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The image ships npm 10, which ignores package.json "allowScripts" (and so would run
# the install script we deny there); npm 11 applies that policy.
RUN npm install --global npm@11
# Manifests first, so the dependency layer is reused when only sources change.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

# --- runtime: compiled code and production dependencies only ---
FROM node:20-bookworm-slim AS runtime
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
# A young generation of 32 MB (Node's default: 16) lets a request's objects die
# young instead of being promoted: less CPU per request and less memory under
# load (bench/README.md). The same flags as `npm start`; test/deployment.spec.ts checks.
CMD ["node", "--max-semi-space-size=32", "dist/apps/api/apps/api/src/main.js"]
