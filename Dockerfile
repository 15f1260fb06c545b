# The production image: the compiled service and its production dependencies,
# run by an unprivileged user. In production it needs DATABASE_URL,
# IAM_ENDPOINT and SECRETS_KEY (see src/config/config.ts); docker-compose.yml
# shows one way to provide them, and a development profile that needs none.

# Node 24 is a supported LTS release, and what several dependencies already
# ask for (>= 22). The project's own CI runs on the Node of its machines (20).
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS base
# The lockfile and package.json's allowScripts policy are npm 11's.
ARG NPM_VERSION=11.19.1
RUN npm install --global "npm@${NPM_VERSION}" \
 && npm cache clean --force
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /app

FROM base AS build
# Dependencies first, so that a change to the code alone reuses this layer.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# tsconfig.build.json compiles only what the image runs: the service and the
# migrations and the two migration commands, not the tests or the benchmark.
RUN npx tsc -p tsconfig.build.json

FROM base AS runtime
# Set only here: in the build stage it would make `npm ci` leave out the
# compiler. It also makes the service refuse to start without a real
# database and IAM instead of falling back to the development ones.
ENV NODE_ENV=production
# Production dependencies only; the dev-only package named in allowScripts
# is not installed, and no production dependency has an install script.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
 && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
# The migration commands, for `docker compose run --rm app node
# dist/scripts/migrate.js` (or typeorm-cli.js migration:show); the service
# itself migrates at start-up unless RUN_MIGRATIONS=false.
COPY --from=build /app/dist/scripts ./dist/scripts
# Everything above stays owned by root, so the service cannot rewrite its own
# code or dependencies.
USER node
EXPOSE 8080
# Liveness only: /health/ready also asks the database and IAM, and an IAM
# outage should not get every container restarted. The slim image has no
# curl; node's fetch does the same.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
