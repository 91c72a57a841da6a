# syntax=docker/dockerfile:1
#
# orderbell: one static binary (pure-Go MySQL and SQLite drivers, no cgo;
# pages, scripts and the socket.io client embedded). Build it in a Go image,
# run it in a small one as a non-root user.
#
#   docker build -t orderbell .
#   docker run --rm -p 3000:3000 -e ACCESS_TOKEN_KEY=... -e DATABASE_URL=mysql://... orderbell

# golang:1.26 follows the newest 1.26.x, which go.mod's "go 1.26.x" line needs.
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
# Modules first, so this layer is reused until go.mod / go.sum change.
# go.mod replaces two socket.io modules with the patched copies in
# third_party/ (see their ORDERBELL-PATCHES.md): go mod download reads those
# copies' go.mod, so they come in with this layer.
COPY go.mod go.sum ./
COPY third_party ./third_party
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/orderbell .

# Why alpine and not distroless/static: the health check needs something
# inside the container that can GET /healthz, and orderbell has no
# self-probe mode. busybox wget in alpine (~8 MB, with CA certificates) is
# that something; the binary needs nothing else from the image.
FROM alpine:3.22
# A fixed uid/gid, and a numeric USER below, so that runtimes which check
# "runAsNonRoot" can see it is not root. /data is its working directory:
# only the default SQLite file (no DATABASE_URL) is ever written there.
RUN addgroup -S -g 10001 orderbell \
 && adduser -S -D -H -u 10001 -G orderbell -h /data orderbell \
 && install -d -o orderbell -g orderbell /data
COPY --from=build /out/orderbell /usr/local/bin/orderbell
WORKDIR /data
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
USER 10001:10001
# Liveness only (/readyz also asks the database and Redis: a node should not
# be marked unhealthy, nor restarted, because the database is).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD wget -q -O /dev/null "http://127.0.0.1:${PORT}/healthz" || exit 1
# Exec form: orderbell is PID 1 and gets SIGTERM itself, for its graceful
# shutdown (SHUTDOWN_TIMEOUT).
ENTRYPOINT ["/usr/local/bin/orderbell"]
