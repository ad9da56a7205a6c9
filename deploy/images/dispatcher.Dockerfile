# The dispatcher: log-in page, sessions, warm pool of peers, catalog, routing.
#
# From source, with an official Node LTS image (BuildKit, the default builder since Docker 23):
#   docker build -f deploy/images/dispatcher.Dockerfile -t p2p-messenger/dispatcher .
# Where no registry can be reached, `pnpm images` builds the `local` target instead, from a
# base made of this machine's Node (see README.md beside this file).

ARG NODE_IMAGE=node:22-bookworm-slim
ARG BUILD_IMAGE=node:22-bookworm

# What `pnpm images` prepared on the host: `pnpm deploy --prod` (production dependencies only).
FROM scratch AS prebuilt
COPY app/ /out/app/
COPY data/ /out/data/

FROM ${NODE_IMAGE} AS runtime-base
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="p2p-messenger dispatcher" \
      org.opencontainers.image.description="The p2p messenger's front door: log-in, a warm pool of peers, one peer per user" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/p2p-messenger/p2p-messenger"
# Configured through P2PM_* variables (the health check reads the same ones).
ENV NODE_ENV=production \
    P2PM_DATA_DIR=/data \
    P2PM_HOST=0.0.0.0 \
    P2PM_PORT=8080 \
    P2PM_LOG_FILE=-
EXPOSE 8080
WORKDIR /app
VOLUME /data
USER 1000:1000
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "/app/dist/healthcheck.js"]
ENTRYPOINT ["node", "/app/dist/main.js"]

# The image `pnpm images` builds here: the prepared app on the local base.
FROM runtime-base AS local
COPY --from=prebuilt --chown=1000:1000 /out/app/ /app/
COPY --from=prebuilt --chown=1000:1000 /out/data/ /data/

# From source: compile, then keep production dependencies only.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
RUN npm install -g pnpm@10
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm build \
 && pnpm --filter @p2p-messenger/dispatcher deploy --prod --legacy /out/app \
 && mkdir -p /out/data

FROM runtime-base AS runtime
COPY --from=build --chown=1000:1000 /out/app/ /app/
COPY --from=build --chown=1000:1000 /out/data/ /data/
