# libpoe: build and test in one stage, run poe-demo in a slim one.
#   docker build -t poe-demo .
#   docker run -p 8080:8080 poe-demo        # then open http://127.0.0.1:8080/
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc meson ninja-build pkg-config binutils python3 \
        libmicrohttpd-dev libjansson-dev libsqlite3-dev libcmocka-dev \
        libglib2.0-dev libuv1-dev libev-dev libpoe-perl curl ca-certificates abigail-tools \
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
RUN ldconfig && mkdir -p /data
VOLUME /data
EXPOSE 8080
# Inside the container the inspector must listen on every address for
# `docker run -p 8080:8080` to reach it; the token-less inspector stays
# read-only.
ENV POE_INSPECTOR_REMOTE=1
CMD ["poe-demo", "--inspector", "0.0.0.0:8080", "--trace-db", "/data/poe-trace.db"]
