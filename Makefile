# caviar: the two commands.
#   make demo   installs what is missing, builds, and tunes the example study
#   make test   installs what is missing, builds, and runs every test through CTest
# and one for the sanitizers (docs/testing.md):
#   make test-sanitize   every test under ASan and UBSan (build-asan), then the tests of the
#                        concurrent code (tuner, storage, PBT) under TSan (build-tsan)
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: all setup build demo test test-sanitize bench install clean

all: build

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/caviar

test: build
	@scripts/test.sh $(BUILD)

# The tests of code that runs threads or processes side by side: the tuner and its
# executors, the storages, PBT, several caviar processes on one study.
TSAN_TESTS = ^(Protocol|PruningInStudies|StaleRetry|BoundedOutput|MalformedSteps|NoOrphans|Stores/|SqliteStorage|PostgresStorage|DeadOwner|Pbt|CliConcurrent)

# Tests that cannot run under ASan: one caps the address space at 2 GiB (ASan reserves
# terabytes of shadow), two measure the peak memory of reading output (ASan's shadow and
# quarantine are counted in it).
ASAN_SKIPPED = ^(InputLimits.NoThreadsLeftIsAnErrorNotAnAbort|BoundedOutput.TwelveMegabyteStderrLinesStoreAFewKilobytes|BoundedOutput.HundredMegabyteLineIsReadInOnePassAndBoundedMemory)$$

test-sanitize: setup
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DCAVIAR_SANITIZE=address -DCAVIAR_BUILD_BENCH=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@scripts/test.sh build-asan -E '$(ASAN_SKIPPED)'
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Release -DCAVIAR_SANITIZE=thread -DCAVIAR_BUILD_BENCH=OFF >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target caviar_tests caviar_cli
	@TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp" scripts/test.sh build-tsan -R '$(TSAN_TESTS)'

bench: build
	@echo "benchmarks are in $(BUILD)/bench; see docs/benchmarks.md"

install: build
	@cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD)
