# Slim production image: migrates, then serves with uvicorn as a non-root user.
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
RUN mkdir -p /srv/data && chown casus /srv/data
USER casus
EXPOSE 8000
CMD ["sh", "-c", "casusregister migrate && exec casusregister serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
