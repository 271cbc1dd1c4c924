# Ward: `make demo` and `make test` work on a fresh Debian 12 machine (as root).
BUILD ?= build
JOBS  ?= $(shell nproc)
WARD   = $(BUILD)/ward

.PHONY: deps build demo test clean bench fuzz

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(WARD)

# The tests build their own configuration (build-asan: clang, ASan+UBSan, libFuzzer targets).
test: deps
	@bash scripts/test.sh

bench: build
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
