# mailbot daemon image. The install steps are the ones scripts/test runs in CI.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends catdoc \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /home/mailbot mailbot \
 && mkdir -p /data && chown mailbot:mailbot /data

WORKDIR /opt/mailbot
COPY pyproject.toml README.md ./
COPY mailbot ./mailbot
COPY templates ./templates
COPY config ./config
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -e '.[postgres]'

ENV PATH="/opt/venv/bin:$PATH" \
    MAILBOT_CONFIG=/data/mailbot.toml \
    MAILBOT_TEMPLATES=/opt/mailbot/templates

USER mailbot
VOLUME ["/data"]
HEALTHCHECK --interval=60s --timeout=20s --start-period=30s CMD ["mailbot", "status"]
CMD ["mailbot", "run"]
