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

# Longer fuzzing with coverage of all code (build-fuzz): FUZZ_SECONDS per target, artifacts in build-fuzz/.
FUZZ_SECONDS ?= 300
fuzz: deps
	@cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS="-O1" \
	  -DWARD_SANITIZE=ON -DWARD_FUZZ=ON -DWARD_FUZZ_COVERAGE=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
