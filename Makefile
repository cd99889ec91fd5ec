# EvolveAI: `make run` serves the app on the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := run

BUILD_PRESET ?= release
TEST_PRESET ?= asan
BIN := build/$(BUILD_PRESET)/src/evolveai
ARGS ?=

.PHONY: setup configure build run test test-unit test-tsan coverage bench fuzz lint fmt clean web hooks chaos

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

# The whole suite under ASan+UBSan with line coverage of src/ (at least COVERAGE_MIN %), then the
# concurrency-heavy suites under TSan.
COVERAGE_MIN ?= 80
test: setup build/$(TEST_PRESET)/build.ninja web
	@scripts/setup-test-tools
	cmake --build --preset $(TEST_PRESET)
	@find build/$(TEST_PRESET) -name '*.gcda' -delete
	EVOLVEAI_REQUIRE_PG=1 EVOLVEAI_REQUIRE_SERVICES=1 scripts/with-test-services ctest --preset $(TEST_PRESET) --output-on-failure -j2 --timeout 300
	@if [[ "$(TEST_PRESET)" == asan ]]; then scripts/coverage --fail-under $(COVERAGE_MIN) build/asan; fi
	scripts/run-tsan

# Line coverage of the last `make test` run: summary, per-file table, HTML report.
coverage:
	scripts/coverage build/$(TEST_PRESET)

# Only the TSan part of `make test`.
test-tsan: setup
	scripts/run-tsan

test-unit: setup build/$(TEST_PRESET)/build.ninja
	cmake --build --preset $(TEST_PRESET) --target evolveai_unit_tests
	ctest --preset $(TEST_PRESET) -L unit --output-on-failure -j2

bench: setup
	@scripts/setup-deps --bench
	cmake --preset release >/dev/null
	cmake --build --preset release --target evolveai evolveai-fake-services evolveai_sse_load evolveai_bench
	scripts/run-bench

# Failure scenarios (Redis, PostgreSQL, model upstream, SIGTERM, kill -9) against a running stack
# under load; builds the release preset unless CHAOS_BIN_DIR names a build dir (see scripts/run-chaos).
chaos: setup
	scripts/run-chaos

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
