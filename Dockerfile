# Tiketti: one image for `tiketti run` (and every other sub-command).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    TIKETTI_HTTP_HOST=0.0.0.0 \
    TIKETTI_HTTP_PORT=8080 \
    TIKETTI_DATABASE_URL=sqlite+aiosqlite:////data/tiketti.db \
    TIKETTI_OUTBOUND_DIR=/data/outbound-mail
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --home-dir /data --create-home tiketti
USER tiketti
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TIKETTI_HTTP_PORT', '8080'), timeout=4)"
ENTRYPOINT ["tiketti"]
CMD ["run"]
