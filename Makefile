# caviar: the two commands.
#   make demo   installs what is missing, builds, and tunes the example study
#   make test   installs what is missing, builds, and runs every test through CTest
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: all setup build demo test bench install clean

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

bench: build
	@echo "benchmarks are in $(BUILD)/bench; see docs/benchmarks.md"

install: build
	@cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD)
