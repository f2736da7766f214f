# syntax=docker/dockerfile:1
# The project image: the `flowmaestro` CLI (worker, gateway, migrate, ...) with the built UI.

FROM node:22-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
# The workspace's packages (@flowmaestro/client, @flowmaestro/react), which the demo consumes
# by name: npm ci links them, so their manifests come first.
COPY web/packages/client/package.json packages/client/
COPY web/packages/react/package.json packages/react/
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml setup.py README.md LICENSE ./
COPY events/ events/
COPY security/ security/
COPY broker/ broker/
COPY flows/ flows/
COPY activities/ activities/
COPY workflows/ workflows/
COPY gateway/ gateway/
COPY flowmaestro/ flowmaestro/
COPY migrations/ migrations/
COPY bench/ bench/
COPY examples/ examples/
# Editable, so migrations/, examples/ and web/dist resolve beside the code as in a checkout
# (flowmaestro/<layer> are links to the folders above). With the broker's clients
# (FLOWMAESTRO_BROKER_URL) and the OpenTelemetry SDK (FLOWMAESTRO_TRACING).
RUN FLOWMAESTRO_SKIP_UI_BUILD=1 pip install -e '.[broker,tracing]'
COPY --from=web /web/dist web/dist
RUN useradd --system --home-dir /var/lib/flowmaestro --create-home flowmaestro
USER flowmaestro
ENV FLOWMAESTRO_STATE_DIR=/var/lib/flowmaestro
EXPOSE 8000
ENTRYPOINT ["flowmaestro"]
CMD ["--help"]
