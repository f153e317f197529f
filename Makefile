# Skald: the two commands are `make run` and `make test`.
SHELL := /bin/bash
JOBS ?= 2
FUZZ_SECONDS ?= 15
ARGS ?=

.PHONY: all deps build run test test-unit asan tsan fuzz fuzz-smoke bench bench-storage format clean

all: build

deps:
	@bash scripts/install-deps.sh

build/release/build.ninja:
	cmake --preset release

build: deps build/release/build.ninja
	cmake --build --preset release -j $(JOBS)

# Starts monolithic Skald on :3100 with data under ./data (embedded defaults).
run: build
	./build/release/skald $(ARGS)

# Every test: unit + integration (Release), then a bounded fuzz smoke run.
test: build
	ctest --test-dir build/release -j $(JOBS) --output-on-failure --timeout 600
	$(MAKE) fuzz-smoke

test-unit: build
	ctest --test-dir build/release -j $(JOBS) -L unit --output-on-failure

asan: deps
	cmake --preset asan && cmake --build --preset asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build/asan -j $(JOBS) --output-on-failure --timeout 900

tsan: deps
	cmake --preset tsan && cmake --build --preset tsan -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build/tsan -j $(JOBS) --output-on-failure --timeout 900

fuzz: deps
	cmake --preset fuzz && cmake --build --preset fuzz -j $(JOBS)

# Runs every fuzz target for FUZZ_SECONDS each, starting from its seed corpus.
fuzz-smoke: fuzz
	bash scripts/fuzz-smoke.sh build/fuzz $(FUZZ_SECONDS)

bench: build
	bash scripts/bench.sh

# Issue 11's storage-engine table at 1,000 and 1,000,000 streams (env: STREAMS, LINES, URL, ...;
# see docs/benchmarks.md).
bench-storage: build
	bash scripts/bench-storage.sh

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build
