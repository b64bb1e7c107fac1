# biometric-kz-mock: an offline fake of the biometric.kz Flow Remote integration.
# Build: docker build -t biometric-kz-mock .   Run: docker run -p 8080:8080 biometric-kz-mock
# (No "# syntax=" line: it would make the build fetch a frontend image.)

FROM rust:1.95.0-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so that a change to the code alone reuses their layer. Cargo reads every
# [[bench]] of the manifest, so the (small) bench sources come in with it.
COPY Cargo.toml Cargo.lock ./
COPY benches ./benches
RUN mkdir -p src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src target/release/.fingerprint/biometric-kz-mock-* target/release/deps/biometric_kz_mock-* target/release/deps/libbiometric_kz_mock-*
COPY src ./src
COPY fixtures ./fixtures
COPY scenarios ./scenarios
COPY templates ./templates
COPY widget ./widget
RUN cargo build --release --locked && strip target/release/biometric-kz-mock

FROM debian:bookworm-slim
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin mock \
 && mkdir -p /var/lib/biometric-kz-mock/ca && chown 10001 /var/lib/biometric-kz-mock/ca && chmod 700 /var/lib/biometric-kz-mock/ca
# Everything the server needs is inside the binary; the shipped scenarios are also here as
# files, to read and to copy from.
COPY --from=build /src/target/release/biometric-kz-mock /usr/local/bin/biometric-kz-mock
COPY scenarios /usr/share/biometric-kz-mock/scenarios
USER 10001
# The test CA is kept here (mount a volume to share it with the app and keep it across runs).
ENV BKZ_MOCK_HOST=0.0.0.0 \
    BKZ_MOCK_PORT=8080 \
    BKZ_MOCK_CA_DIR=/var/lib/biometric-kz-mock/ca
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 CMD ["biometric-kz-mock", "healthcheck"]
# The binary is PID 1 and handles SIGTERM itself: docker stop takes well under a second.
ENTRYPOINT ["biometric-kz-mock"]
CMD ["serve"]
