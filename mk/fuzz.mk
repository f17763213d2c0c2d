# Fuzzing (tests/fuzz).
#
# `make fuzz` builds every tests/fuzz/fuzz_NAME.c into a libFuzzer harness
# with clang, ASan and UBSan (the library too, compiled again by clang into
# build-fuzz/), and runs each for FUZZ_SECONDS with its corpus in
# build-fuzz/corpus/NAME; a crash fails it and names the input.
#
# The same harnesses, built with $(CC) and tests/fuzz/replay.c instead of
# libFuzzer, replay tests/fuzz/regress/NAME/ (inputs that once crashed) and
# tests/fuzz/seeds/NAME/ in every `make test` pass (plain, ASan, valgrind)
# through tests/cli/test_fuzz_replay.sh; `make fuzz-replay` runs just them.

FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 20
FUZZ_CC      ?= clang
FUZZ_CFLAGS  ?= -O1 -g
FUZZ_DUMPS   ?= ../shared/dumps
FUZZ_BUILD   := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_OBJ := $(ALL_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/libbkspi.a
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_HDRS    := $(wildcard tests/fuzz/*.h)
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz/replay_%)

.PHONY: fuzz fuzz-build fuzz-toolchain fuzz-replay fuzz-seeds fuzz-coverage fuzz-replay-clang

fuzz: fuzz-toolchain $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_DUMPS=$(FUZZ_DUMPS) tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_NAMES)

fuzz-build: fuzz-toolchain $(FUZZ_BINS)

fuzz-toolchain:
	@tests/fuzz/toolchain.sh $(FUZZ_CC)

$(FUZZ_BUILD)/%.o: %.c | fuzz-toolchain
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(BK_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_LIB) | fuzz-toolchain
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(filter-out -MMD -MP,$(BK_CFLAGS)) $(PKG_CFLAGS) -Itests \
		-o $@ $< $(FUZZ_LIB) $(PKG_LIBS)

# The seed generator (tests/fuzz/gen_seeds.c) runs the emulator to record
# wire replies; its output is committed, so this is only for changing seeds.
$(FUZZ_BUILD)/gen_seeds: tests/fuzz/gen_seeds.c $(FUZZ_HDRS) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(filter-out -MMD -MP,$(BK_CFLAGS)) $(PKG_CFLAGS) -Itests -o $@ $< $(LIBS) $(PKG_LIBS) $(LDFLAGS)

fuzz-seeds: $(FUZZ_BUILD)/gen_seeds
	$(FUZZ_BUILD)/gen_seeds tests/fuzz

# Line coverage of the parsers by what `make fuzz` left in the corpora. The
# replays are built with the sources, unoptimised and with clang's coverage
# instrumentation; fuzz_num parses once (a finding that aborts writes no
# profile).
FUZZ_COVS := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/cov/replay_%)

$(FUZZ_COVS): $(FUZZ_BUILD)/cov/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_HDRS) $(ALL_SRC) | fuzz-toolchain
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -O0 -g -fprofile-instr-generate -fcoverage-mapping -DFUZZ_ARGS_ONCE \
		$(filter-out -MMD -MP,$(BK_CFLAGS)) $(PKG_CFLAGS) -Itests \
		-o $@ tests/fuzz/fuzz_$*.c tests/fuzz/replay.c $(ALL_SRC) $(PKG_LIBS)

fuzz-coverage: $(FUZZ_COVS)
	@FUZZ_DUMPS=$(FUZZ_DUMPS) tests/fuzz/coverage.sh $(FUZZ_BUILD) $(FUZZ_NAMES)

# Replays: the harness and replay.c objects come from the main Makefile's
# $(BUILD)/tests/%.o rule (dependency files included).
$(FUZZ_REPLAYS): $(BUILD)/tests/fuzz/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

fuzz-replay: $(BIN) $(FUZZ_REPLAYS)
	@BKSPI=$(abspath $(BIN)) BKSPI_WRAP= sh tests/cli/test_fuzz_replay.sh

test test-valgrind: $(FUZZ_REPLAYS)

# make check's clang pass builds the replays too, so both compilers keep
# the harnesses warning-free.
build-clang: fuzz-replay-clang
fuzz-replay-clang:
	$(MAKE) BUILD=build-clang CC=clang $(FUZZ_NAMES:%=build-clang/tests/fuzz/replay_%)

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
