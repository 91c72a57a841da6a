# The one test command: `make test` runs every test, Go and end to end,
# on SQLite and on MariaDB. .ci/run calls it after starting the services.
MYSQL_URL ?= mysql://root@127.0.0.1:3306/test
BIN := $(CURDIR)/orderbell

# Fuzzing runs a fixed count of inputs, not a fixed time: Go 1.26's fuzz
# coordinator can fail a duration-bound run with a bare "context deadline
# exceeded" at the end of its window (golang/go#75804, fixed in Go 1.27),
# and a count has no deadline. 40,000 inputs take 7-20 s per target here.
FUZZTIME ?= 40000x

SOAK ?= 60s

.PHONY: run build test test-go fuzz soak test-e2e npm

run:
	go run .

build:
	CGO_ENABLED=0 go build -o $(BIN) .

test: test-go fuzz soak test-e2e

# Socket tests about the library's own objects (its engine's clients and
# events, its sessions, its readers), which lean connections do not have.
LIBRARY_ONLY_TESTS = ^(TestNoSocketOutlivesItsConnection|TestEmitLimiterFromTheFirstEmit|TestHandshakeIsTheConnects|TestHandshakeLetGoBeforeTheAnswer|TestIdleConnectionsWakeOnEverything|TestConnectedDevicesKeepNoUpgradeRequest|TestIdleReaderStacks|TestSoak)$$

test-go:
	ORDERBELL_TEST_MYSQL=$(MYSQL_URL) go test -count=1 -race ./...
	# the patched library modules' own tests (third_party/zishang520-socketio,
	# third_party/zishang520-engine, third_party/zishang520-socket)
	go test -count=1 -race github.com/zishang520/socket.io/v3/pkg/types github.com/zishang520/socket.io/v3/pkg/queue github.com/zishang520/socket.io/servers/engine/v3 github.com/zishang520/socket.io/servers/engine/v3/transports github.com/zishang520/socket.io/servers/socket/v3
	# allocations through a sync.Pool, which -race empties at random
	go test -count=1 -run '^TestReadFromAllocatesOnlyItsCopy$$' -v github.com/zishang520/socket.io/v3/pkg/types
	# stacks per idle connection, which -race's larger stack guard inflates
	go test -count=1 -run '^TestIdleReaderStacks$$' -v ./socket/
	# the socket suite again with the lean layer on (socket/lean.go, what
	# orderbell runs by default), but for the tests that look inside the
	# library's own objects
	ORDERBELL_TEST_LEAN=1 go test -count=1 -race -skip '$(LIBRARY_ONLY_TESTS)' ./socket/
	# bench/traceslices, a module of its own (golang.org/x/exp/trace)
	cd bench/traceslices && go test -count=1 -race ./...
	# bench/transport, a module of its own (nbio): the lean relay's tests
	cd bench/transport && go vet ./... && go test -count=1 -race ./...

# Each fuzz target for a short fixed count of inputs (their seed corpora,
# with what they found before in testdata/fuzz, also run in test-go).
fuzz:
	go test -run='^$$' -fuzz='^FuzzReadBody$$' -fuzztime=$(FUZZTIME) ./router/
	go test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./auth/
	go test -run='^$$' -fuzz='^FuzzLegacyPair$$' -fuzztime=$(FUZZTIME) ./socket/
	go test -run='^$$' -fuzz='^FuzzWholeNumber$$' -fuzztime=$(FUZZTIME) ./socket/

# Socket churn with alerts flowing; fails if the heap or goroutines grow.
# The 10-minute, 5,000-socket version: make soak SOAK=10m SOAK_CONNS=5000
SOAK_CONNS ?= 1000
soak:
	ORDERBELL_SOAK=$(SOAK) ORDERBELL_SOAK_CONNS=$(SOAK_CONNS) go test -count=1 -timeout 30m -run '^TestSoak$$' -v ./socket/

npm:
	cd test && npm ci --no-audit --no-fund

test-e2e: build npm
	cd test && ORDERBELL_BIN=$(BIN) ORDERBELL_DATABASE=sqlite npm test
	cd test && ORDERBELL_BIN=$(BIN) ORDERBELL_DATABASE=mysql npm test
	# and with the lean layer off: the library alone, as it still serves
	# socket.io-client v2 and cross-origin polling
	cd test && ORDERBELL_BIN=$(BIN) ORDERBELL_DATABASE=sqlite ORDERBELL_LEAN_WEBSOCKET=false npm test
