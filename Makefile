# The two commands a newcomer needs:
#   make run    install packages, build Release, start the server with demo data on :8080
#   make test   install what tests need, build, run every test
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: run test deps test-deps build unit e2e bench clean format format-check

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

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

e2e: build
	STAGEPASS_BIN=$(abspath $(BUILD))/stagepass tests/run-e2e.sh

# .clang-format (Google, 100 columns) is the style; CI refuses unformatted C++.
SOURCES = $(shell git ls-files 'src/*.cpp' 'src/*.hpp' 'bench/*.cpp' 'bench/*.hpp' 'sdk/*.cpp' 'sdk/*.hpp' 'include/*.hpp' 'examples/*.cpp')
format:
	clang-format -i $(SOURCES)
format-check:
	@clang-format --dry-run -Werror $(SOURCES) && echo "format-check: ok"

test: test-deps
	$(MAKE) format-check
	$(MAKE) unit
	$(MAKE) e2e

bench:
	bench/run.sh

clean:
	rm -rf $(BUILD)
