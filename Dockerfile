# libpoe: build and test in one stage, run poe-demo in a slim one.
#   docker build -t poe-demo .
#   docker run -p 127.0.0.1:8080:8080 poe-demo   # then open http://127.0.0.1:8080/
# Publish on loopback: the inspector shows the program's sessions, events and
# trace log to whoever reaches the port; -p 8080:8080 would offer them on
# every address of the host.
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc meson ninja-build pkg-config binutils python3 \
        libmicrohttpd-dev libjansson-dev libsqlite3-dev libcmocka-dev \
        libglib2.0-dev libuv1-dev libev-dev libpoe-perl curl ca-certificates abigail-tools libunistring-dev man-db \
        prometheus \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The build stage runs the test suite, but for the browser tests (they need
# chromium and node; scripts/test.sh runs them) and the timing-sensitive
# oracles (see tests/oracle/meson.build).
RUN meson setup /build -Dwerror=true -Dbuildtype=release --prefix=/usr/local --libdir=lib \
    && ninja -C /build \
    && meson test -C /build --print-errorlogs --num-processes 2 --no-suite timing --no-suite web \
    && DESTDIR=/install meson install -C /build --no-rebuild

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libjansson4 libsqlite3-0 libglib2.0-0 libuv1 libev4 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /install/usr/local/ /usr/local/
COPY scripts/inspector-health /usr/local/bin/inspector-health
# A user of its own (fixed ids, so a bind mount on /data can be given to
# it: chown 10001:10001), owning /data before it becomes a volume (a new
# volume takes the owner and mode of the image's directory).
RUN ldconfig \
    && groupadd --system --gid 10001 poe \
    && useradd --system --uid 10001 --gid poe --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin poe \
    && mkdir -p /data && chown poe:poe /data && chmod 0750 /data
VOLUME /data
WORKDIR /data
USER 10001:10001
EXPOSE 8080
# Inside the container the inspector must listen on every address for
# `docker run -p 127.0.0.1:8080:8080` to reach it; the token-less inspector
# stays read-only (a token comes from POE_INSPECTOR_TOKEN or
# POE_INSPECTOR_TOKEN_FILE, such as a mounted secret, never the command line).
ENV POE_INSPECTOR_REMOTE=1
# Healthy when the inspector answers /api/v1/kernel and the kernel is not
# stuck in a handler (bash's /dev/tcp: no HTTP client in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["inspector-health", "127.0.0.1:8080"]
CMD ["/usr/local/libexec/libpoe/poe-demo", "--inspector", "0.0.0.0:8080", "--trace-db", "/data/poe-trace.db"]
