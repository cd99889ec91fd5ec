# syntax=docker/dockerfile:1
# EvolveAI as a container image: built on Debian 12 with the same CMake preset as `make build`
# (release), run on Debian 12 slim as an unprivileged user.
#
#   docker build -t evolveai --build-arg EVOLVEAI_COMMIT=$(git rev-parse --short=12 HEAD) .
#   docker run -p 8080:8080 -v evolveai-data:/var/lib/evolveai evolveai
#
# The image serves on 0.0.0.0:8080 and keeps its data (SQLite file, generated JWT secret, local
# backups) in the volume /var/lib/evolveai. Configure it with EVOLVEAI_<SECTION>__<KEY> variables,
# secrets with EVOLVEAI_<SECTION>__<KEY>_FILE (see deploy/docker-compose.yml).

############################ build ############################
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src

# The build's packages first, from the same list a developer's machine uses (cached layer).
COPY scripts/setup-deps scripts/setup-deps
RUN scripts/setup-deps && rm -rf /var/lib/apt/lists/*

COPY . .
# No .git in the build context: the commit is passed in (and reported by `evolveai version`).
ARG EVOLVEAI_COMMIT=unknown
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake --preset release -DEVOLVEAI_COMMIT="${EVOLVEAI_COMMIT}" \
    && cmake --build --preset release --target evolveai \
    && strip build/release/src/evolveai \
    && build/release/src/evolveai version
# The web app (chat and admin panel) into web/dist.
RUN scripts/build-web

############################ run ############################
FROM debian:12-slim AS run
ENV DEBIAN_FRONTEND=noninteractive
# Runtime libraries only (the -dev packages' shared objects), espeak-ng's voices, pg_dump and
# pg_restore for backups of PostgreSQL, CA certificates for the model and Telegram APIs, curl for
# the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       ca-certificates curl tzdata \
       libboost-json1.81.0 libboost-url1.81.0 \
       libpq5 libhiredis0.14 libsqlite3-0 libssl3 \
       libjwt0 libsodium23 libspdlog1.10 libfmt9 libtomlplusplus3 \
       libespeak-ng1 espeak-ng-data libopus0 libogg0 \
       postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged user (uid 10001) that owns only the data directory.
RUN groupadd --system --gid 10001 evolveai \
    && useradd --system --uid 10001 --gid evolveai --home-dir /var/lib/evolveai --shell /usr/sbin/nologin evolveai \
    && install -d -o evolveai -g evolveai -m 0750 /var/lib/evolveai /var/lib/evolveai/backups

COPY --from=build /src/build/release/src/evolveai /usr/local/bin/evolveai
COPY --from=build /src/web/dist /usr/share/evolveai/web
COPY config/evolveai.example.toml /usr/share/evolveai/evolveai.example.toml

ENV EVOLVEAI_SERVER__HOST=0.0.0.0 \
    EVOLVEAI_SERVER__PORT=8080 \
    EVOLVEAI_SERVER__DATA_DIR=/var/lib/evolveai \
    EVOLVEAI_SERVER__WEB_ROOT=/usr/share/evolveai/web \
    EVOLVEAI_LOG__FORMAT=json

USER evolveai:evolveai
WORKDIR /var/lib/evolveai
VOLUME ["/var/lib/evolveai"]
EXPOSE 8080

# /healthz answers while the process is alive; orchestrators use /readyz for traffic.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${EVOLVEAI_SERVER__PORT}/healthz" || exit 1

# SIGTERM: readiness turns false, in-flight requests finish, exit 0 (server.shutdown_timeout).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/evolveai"]
CMD ["serve"]
