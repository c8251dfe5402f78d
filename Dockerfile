# mailbot daemon image. Debian 12 with Debian's Python 3.11, installed by scripts/install: the
# same commands as README command 1 and CI (scripts/test run it too); only the extras differ.
FROM debian:bookworm-slim

WORKDIR /opt/mailbot
COPY pyproject.toml README.md ./
COPY scripts/install ./scripts/install
COPY mailbot ./mailbot
COPY templates ./templates
COPY config ./config
# ca-certificates: imaps/smtps certificates are checked against them; tzdata: the office's time zone.
ENV PIP_NO_CACHE_DIR=1
RUN scripts/install --venv /opt/venv --extras postgres ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid, so that a host folder mounted on /data can be given to it: chown -R 10001:10001 data
RUN groupadd --system --gid 10001 mailbot \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/mailbot mailbot \
 && mkdir -p /data && chown mailbot:mailbot /data

ENV PATH="/opt/venv/bin:$PATH" \
    MAILBOT_CONFIG=/data/mailbot.toml \
    MAILBOT_TEMPLATES=/opt/mailbot/templates

USER mailbot
VOLUME ["/data"]
HEALTHCHECK --interval=60s --timeout=20s --start-period=30s CMD ["mailbot", "status"]
CMD ["mailbot", "run"]
