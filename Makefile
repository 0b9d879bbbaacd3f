# The two commands of the README, and the steps they are made of.
#   make run   build, start dockmon-server on 127.0.0.1:8080 (SQLite under ./data) and, when a Docker
#              engine is reachable, a dockmon-agent registered with it
#   make test  install what is missing, build, start the test environment, run every test
.PHONY: run test deps lint web build build-release test-env unit integration clean

JOBS ?= $(shell nproc)

deps:
	@scripts/install-deps

lint:
	@scripts/lint-coroutines

# The web UI: TypeScript built by Vite into web/dist, which the server build embeds.
web: deps
	@cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

build: deps web
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)

build-release: deps web
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

run: build-release
	@scripts/run-local build/release

test-env: deps
	@scripts/test-env start >/dev/null

test: lint build test-env
	@eval "$$(scripts/test-env env)" && ctest --preset debug -j $(JOBS)

unit: build
	@ctest --preset debug -j $(JOBS) -LE integration

integration: build test-env
	@eval "$$(scripts/test-env env)" && ctest --preset debug -L integration

clean:
	rm -rf build
