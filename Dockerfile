# syntax=docker/dockerfile:1
#
# docker build -t pylon .
# docker run --env-file .env -v ~/.bittensor/wallets:/root/.bittensor/wallets:ro \
#            -v pylon-data:/var/lib/pylon -p 8000:8000 pylon
# (docs/SERVICE.md: settings, compose example, stop grace period.)

# Build stage: the workspace in release mode; only the `pylon` binary leaves it. The toolchain is
# the one the test suite runs on (tower-http's uuid needs Rust >= 1.89). The cargo registry and
# target directory are BuildKit caches, so a code change does not recompile every dependency.
FROM rust:1.95-bookworm AS build
# Cargo features of `pylon` compiled into the image: error reporting (Sentry) and trace export
# (OTLP), so a reference `.env` with PYLON_SENTRY_DSN / PYLON_OTEL_COLLECTOR_ENDPOINT starts as it
# did. `--build-arg PYLON_FEATURES=` builds the lean binary (docs/SERVICE.md).
ARG PYLON_FEATURES="sentry,otlp"
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p pylon ${PYLON_FEATURES:+--features "$PYLON_FEATURES"} \
    && strip target/release/pylon \
    && cp target/release/pylon /usr/local/bin/pylon

# Runtime stage: slim Debian (same glibc as the build) with CA certificates for wss:// nodes.
# TLS is rustls, so no OpenSSL.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/pylon /usr/local/bin/pylon
# Wallets are mounted at the reference's path; weights jobs persist in /var/lib/pylon (mount a
# volume there so a restarted container resumes them).
ENV PYLON_BITTENSOR_WALLET_PATH=/root/.bittensor/wallets \
    PYLON_DATA_DIR=/var/lib/pylon \
    PYLON_HOST=0.0.0.0 \
    PYLON_PORT=8000
WORKDIR /var/lib/pylon
EXPOSE 8000
# SIGTERM (docker stop) drains in-flight requests for up to PYLON_SHUTDOWN_TIMEOUT_SECONDS (30):
# give `docker stop -t` / compose `stop_grace_period` a little more than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["pylon"]
CMD ["serve"]
