# The bridge: joins this network's peers to other networks through federation links between
# bridges, relaying their TLS sessions unread.
#
# From source, with an official Node LTS image (BuildKit, the default builder since Docker 23):
#   docker build -f deploy/images/bridge.Dockerfile -t p2p-messenger/bridge .
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
LABEL org.opencontainers.image.title="p2p-messenger bridge" \
      org.opencontainers.image.description="A bridge of the p2p messenger: federation with other networks' bridges, relaying peers' TLS sessions unread" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/p2p-messenger/p2p-messenger"
# Configured through P2PM_BRIDGE_* variables (the health check reads the same ones). The key
# pair, and so the bridge's id, lives in /data: keep it in a volume. Add P2PM_BRIDGE_LISTEN
# and P2PM_BRIDGE_TRUST for a bridge others link to, P2PM_BRIDGE_JOIN for one that dials.
ENV NODE_ENV=production \
    P2PM_BRIDGE_DATA_DIR=/data \
    P2PM_BRIDGE_LAN=true \
    P2PM_BRIDGE_RELAY_GREETING_PORT=7420 \
    P2PM_BRIDGE_RELAY_PORT=7421 \
    P2PM_BRIDGE_OPS_HOST=0.0.0.0 \
    P2PM_BRIDGE_OPS_PORT=9464 \
    P2PM_BRIDGE_LOG_FILE=-
EXPOSE 7420 7421 7443 9464
WORKDIR /app
VOLUME /data
USER 1000:1000
HEALTHCHECK --interval=10s --timeout=10s --start-period=20s --retries=3 \
  CMD ["node", "/app/dist/cli/healthcheck.js"]
ENTRYPOINT ["node", "/app/dist/cli/main.js"]

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
 && pnpm --filter @p2p-messenger/bridge deploy --prod --legacy /out/app \
 && mkdir -p /out/data

FROM runtime-base AS runtime
COPY --from=build --chown=1000:1000 /out/app/ /app/
COPY --from=build --chown=1000:1000 /out/data/ /data/
