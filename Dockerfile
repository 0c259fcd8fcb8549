# The a2a-deploy worker image (used by docker-compose.yml; also a host worker's image:
#   docker run --network host -e TEMPORAL_ADDRESS=server:7233 IMAGE node bin/a2a-deploy.js worker --host NAME)
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
COPY jobs ./jobs
CMD ["node", "bin/a2a-deploy.js", "worker"]
