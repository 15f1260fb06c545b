# The production image: the compiled service and its production dependencies,
# run by an unprivileged user. It needs DATABASE_URL and IAM_ENDPOINT (see
# src/config/config.ts); docker-compose.yml shows one way to provide them.

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS base
# The lockfile and package.json's allowScripts policy are npm 11's; the npm
# bundled with Node 20 is 10, which would ignore the policy.
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
# The whole context (less .dockerignore): tsconfig.json compiles scripts/ and
# test/ along with src/, and scripts/run-tests.ts imports from test/.
COPY . .
RUN npm run build

FROM base AS runtime
# Set only here: in the build stage it would make `npm ci` leave out the
# compiler. It also makes the service refuse to start without a real
# database and IAM instead of falling back to the development ones.
ENV NODE_ENV=production
# The dev-only package named in allowScripts is simply not installed here;
# no production dependency has an install script.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
 && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# The migration commands, for `docker compose run --rm app node
# dist/scripts/migrate.js` (or typeorm-cli.js migration:show); the service
# itself migrates at start-up unless RUN_MIGRATIONS=false.
COPY --from=build /app/dist/scripts/typeorm-cli.js /app/dist/scripts/migrate.js ./dist/scripts/
# Everything above stays owned by root, so the service cannot rewrite its own
# code or dependencies.
USER node
EXPOSE 8080
# No HEALTHCHECK: the service has no health endpoint yet, and a TCP probe
# would call a service healthy whose database is gone.
CMD ["node", "dist/src/main.js"]
