# The two commands a newcomer needs:
#   make run    install packages, build Release, start the server with demo data on :8080
#   make test   install what tests need, build, run every test
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: run test deps test-deps build unit e2e bench clean format format-check test-asan fuzz \
        fuzz-smoke asan-deps fuzz-deps bench-deps microbench-deps bench-smoke

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh build test

$(BUILD)/build.ninja:
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: deps build
	$(BUILD)/stagepass serve --demo

# Tests that need PostgreSQL run against a throw-away server (scripts/pg-test-server.sh) when
# Debian's postgresql-15 is installed (make test-deps installs it); without it they skip.
PG_TEST_RUN = $(if $(wildcard /usr/lib/postgresql/15/bin/initdb),$(CURDIR)/scripts/pg-test-server.sh run --standby --)
unit: build
	cd $(BUILD) && $(PG_TEST_RUN) ctest --no-tests=error --output-on-failure --timeout 300 -j $(JOBS)

e2e: build
	STAGEPASS_BIN=$(abspath $(BUILD))/stagepass tests/run-e2e.sh

# .clang-format (Google, 100 columns) is the style; CI refuses unformatted C++.
SOURCES = $(shell git ls-files 'src/*.cpp' 'src/*.hpp' 'bench/*.cpp' 'bench/*.hpp' 'sdk/*.cpp' 'sdk/*.hpp' 'include/*.hpp' 'examples/*.cpp' 'fuzz/*.cpp' 'fuzz/*.hpp')
format:
	clang-format -i $(SOURCES)
format-check:
	@clang-format --dry-run -Werror $(SOURCES) && echo "format-check: ok"

test: test-deps
	$(MAKE) format-check
	$(MAKE) unit
	$(MAKE) e2e

# The side-by-side load tests (bench/README.md): builds Release into build-bench, then three
# rounds through the whole matrix, each row paired with its own ceiling: ~30 minutes.
bench: bench-deps
	bench/run.py --rounds 3 --runs 1

bench-deps:
	@scripts/install-deps.sh build bench

microbench-deps:
	@scripts/install-deps.sh build microbench

# bench/ compiled in the test tree ($(BUILD): only bench's own sources come on top of what make
# test built), each Google Benchmark binary run once with tiny settings (no load test, no
# figure checked) and the Python harness byte-compiled: CI runs it, so the benchmarks cannot rot.
bench-smoke: microbench-deps $(BUILD)/build.ninja
	@grep -qs '^STAGEPASS_BENCH:BOOL=ON' $(BUILD)/CMakeCache.txt || \
	  cmake -S . -B $(BUILD) -DSTAGEPASS_BENCH=ON
	cmake --build $(BUILD) -j $(JOBS) --target bench-tools
	$(BUILD)/stagepass-bench-micro --benchmark_min_time=0.01
	$(BUILD)/stagepass-bench-gateway --benchmark_min_time=0.01
	$(BUILD)/stagepass-bench-cache-memory 1000
	bench/hello/smoke.py $(BUILD)/stagepass-bench-hello
	python3 -m py_compile bench/*.py bench/harness/*.py bench/hello/*.py
	bench/run.py --help >/dev/null
	bench/cluster.py --help >/dev/null

# Sanitizers and fuzzing share one build directory (build-asan), with Debian's clang 14:
#   make test-asan   unit + end-to-end suites on an ASan + UBSan build (build-asan); any
#                    sanitizer report fails the run (scripts/test-asan.sh)
#   make fuzz        the libFuzzer harnesses in fuzz/ (same tree), FUZZ_SECONDS each (60)
#   make fuzz-smoke  the same, 15 s each, one harness per core at a time (CI)
# The tree is configured with STAGEPASS_FUZZ=ON (libFuzzer's coverage instrumentation on every
# target, inert outside a fuzzer) and the tests on: one sanitized build serves both, instead of
# compiling everything twice. FUZZ_BUILD=<dir> builds the harnesses in a tree of their own.
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= $(ASAN_BUILD)
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
# -O0 with line tables: reports name file:line, and Asio/Beast code compiles 2.6 times faster
# than at -O1 (src/http/server.cpp: 30 s against 78 s); the suites, which mostly wait on the
# network and Argon2id (libsodium, not instrumented), ran about as long (ASan e2e 385 s, 363 s
# at -O1). lld links the large instrumented binaries (ld spent 135 s of a cold build linking).
# Cold, with the precompiled headers (cmake/precompiled_headers.cmake), this tree builds in
# 334 s on 2 cores (680 s without them, 2026-12-04).
SANITIZER_FLAGS = -O0 -gline-tables-only
SANITIZER_CMAKE = -G Ninja -S . -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_CXX_FLAGS_DEBUG="$(SANITIZER_FLAGS)" \
	-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld

asan-deps:
	@scripts/install-deps.sh build test asan
# The shared tree builds the unit tests too (GoogleTest), but needs none of the suites' tools.
fuzz-deps:
	@scripts/install-deps.sh build unit asan

# (Re)configures when the tree is missing or was made before it held the fuzzers or these
# flags (an older build-asan): the recipe checks the cache, so an up-to-date tree costs nothing.
.PHONY: $(ASAN_BUILD)/build.ninja
$(ASAN_BUILD)/build.ninja:
	@{ grep -qs '^STAGEPASS_FUZZ:BOOL=ON' $(ASAN_BUILD)/CMakeCache.txt && \
	   grep -qsF 'CMAKE_CXX_FLAGS_DEBUG:STRING=$(SANITIZER_FLAGS)' $(ASAN_BUILD)/CMakeCache.txt && \
	   grep -qs 'CMAKE_EXE_LINKER_FLAGS:STRING=-fuse-ld=lld' $(ASAN_BUILD)/CMakeCache.txt; } || \
	  cmake $(SANITIZER_CMAKE) -B $(ASAN_BUILD) -DSTAGEPASS_SANITIZE=ON -DSTAGEPASS_FUZZ=ON

ifneq ($(FUZZ_BUILD),$(ASAN_BUILD))
$(FUZZ_BUILD)/build.ninja:
	cmake $(SANITIZER_CMAKE) -B $(FUZZ_BUILD) -DSTAGEPASS_FUZZ=ON -DSTAGEPASS_TESTS=OFF
endif

test-asan: asan-deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	JOBS=$(JOBS) scripts/test-asan.sh $(ASAN_BUILD)

fuzz: fuzz-deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) fuzz/run.sh $(FUZZ_BUILD)

# CI: every harness for 15 s, one per core at a time.
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=15 FUZZ_JOBS=$(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-fuzz
