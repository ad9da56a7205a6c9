# The peer: one user's messenger (identity, history, the owner's web page).
#
# From source, with an official Node LTS image (BuildKit, the default builder since Docker 23):
#   docker build -f deploy/images/peer.Dockerfile -t p2p-messenger/peer .
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
LABEL org.opencontainers.image.title="p2p-messenger peer" \
      org.opencontainers.image.description="A peer of the p2p messenger: identity, durable history, the owner's web page" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/p2p-messenger/p2p-messenger"
# Configured through P2PM_* variables (the health check reads the same ones).
ENV NODE_ENV=production \
    P2PM_DATA_DIR=/data \
    P2PM_LISTEN=0.0.0.0 \
    P2PM_GREETING_PORT=7400 \
    P2PM_SECURE_PORT=7401 \
    P2PM_WEB_PORT=7480 \
    P2PM_LOG_FILE=-
EXPOSE 7400 7401 7480
WORKDIR /app
VOLUME /data
USER 1000:1000
HEALTHCHECK --interval=10s --timeout=10s --start-period=20s --retries=3 \
  CMD ["node", "/app/dist/cli/healthcheck.js"]
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
# A daemon; multicast does not cross overlay networks (peers find each other through the catalog).
CMD ["--no-interactive", "--no-multicast"]

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
 && pnpm --filter @p2p-messenger/peer deploy --prod --legacy /out/app \
 && mkdir -p /out/data

FROM runtime-base AS runtime
COPY --from=build --chown=1000:1000 /out/app/ /app/
COPY --from=build --chown=1000:1000 /out/data/ /data/
