# syntax=docker/dockerfile:1
# The Turnout sidecar: the in-pod proxy the webhook injects (`turnout sidecar`).
# Build from the repository root:  docker build -f images/sidecar.Dockerfile -t turnout-sidecar .
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script, and none gets to run one here.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY operator ./operator
COPY sidecar ./sidecar
COPY cli ./cli
# Compiled JavaScript (tests and test fixtures excluded by tsconfig.build.json), then runtime deps only.
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# Heap and allocator settings for a small sidecar (sidecar/node-options.ts explains them; a unit test keeps
# this line equal to it). The injector also sets them on the container, adding a heap ceiling from the
# container's memory limit.
ENV NODE_OPTIONS="--max-semi-space-size=4" MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=32768
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
# The image's `node` user, numerically: the kubelet can only prove runAsNonRoot for a numeric UID.
USER 1000:1000
ENTRYPOINT ["node", "/app/bin/turnout.js"]
CMD ["sidecar"]
