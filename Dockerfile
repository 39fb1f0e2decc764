# Build stage: the whole workspace, release profile, only the `pylon` binary is kept.
FROM rust:1.88-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN cargo build --release --locked -p pylon && strip target/release/pylon

# Runtime stage: a slim Debian with CA certificates (wss:// to finney) and nothing else.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/pylon /usr/local/bin/pylon
# Wallets are mounted here: docker run -v ~/.bittensor/wallets:/root/.bittensor/wallets:ro ...
ENV PYLON_BITTENSOR_WALLET_PATH=/root/.bittensor/wallets \
    PYLON_HOST=0.0.0.0 \
    PYLON_PORT=8000
EXPOSE 8000
ENTRYPOINT ["pylon"]
CMD ["serve"]
