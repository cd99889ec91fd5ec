# EvolveAI: `make run` serves the app on the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := run

BUILD_PRESET ?= release
TEST_PRESET ?= asan
BIN := build/$(BUILD_PRESET)/src/evolveai
ARGS ?=

.PHONY: setup configure build run test test-unit bench fuzz lint fmt clean web hooks

setup:
	@scripts/setup-deps

build/%/build.ninja: CMakeLists.txt CMakePresets.json | setup
	cmake --preset $* >/dev/null

configure: setup
	cmake --preset $(BUILD_PRESET) >/dev/null

build: setup build/$(BUILD_PRESET)/build.ninja
	cmake --build --preset $(BUILD_PRESET) --target evolveai

web: setup
	@scripts/build-web

run: build web
	$(BIN) serve $(ARGS)

test: setup build/$(TEST_PRESET)/build.ninja web
	@scripts/setup-test-tools
	cmake --build --preset $(TEST_PRESET)
	EVOLVEAI_REQUIRE_PG=1 EVOLVEAI_REQUIRE_SERVICES=1 scripts/with-test-services ctest --preset $(TEST_PRESET) --output-on-failure -j2 --timeout 300

test-unit: setup build/$(TEST_PRESET)/build.ninja
	cmake --build --preset $(TEST_PRESET) --target evolveai_unit_tests
	ctest --preset $(TEST_PRESET) -L unit --output-on-failure -j2

bench: setup
	@scripts/setup-deps --bench
	cmake --preset release >/dev/null
	cmake --build --preset release
	scripts/run-bench

# libFuzzer targets (clang, ASan+UBSan) in build/fuzz, each run for FUZZ_SECONDS; a finding fails.
FUZZ_SECONDS ?= 30
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz $(FUZZ_TARGETS)

lint: setup
	scripts/lint $(LINT_FILES)

fmt:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

# Git runs .githooks/pre-commit (clang-format, clang-tidy on staged files) before each commit.
hooks:
	git config core.hooksPath .githooks
	@echo "hooks: .githooks enabled (pre-commit: clang-format and clang-tidy on staged C++ files)"

clean:
	rm -rf build
