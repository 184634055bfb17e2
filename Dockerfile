# Slim production image, run as a non-root user. One image, three roles (compose.yaml shows them):
#   casusregister migrate   once per release, as the tables' owner (replicas that all run it take turns)
#   casusregister serve     the API (the default command); it does not migrate unless given --migrate
#   casusregister worker    sealing, deliveries, retention, login-throttle purge; as many as you like
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MIGRATIONS_DIR=/srv/migrations DATA_DIR=/srv/data
RUN useradd --system --uid 10001 --home-dir /srv casus
COPY --from=build /install /usr/local
WORKDIR /srv
COPY alembic.ini ./
COPY migrations ./migrations
# Mount points that a new volume takes its owner from: the data directory and the signing keys.
RUN mkdir -p /srv/data /srv/keys && chown casus /srv/data /srv/keys
USER casus
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2)"]
# exec: uvicorn gets SIGTERM itself and drains its requests.
CMD ["sh", "-c", "exec casusregister serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
