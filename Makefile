# bkspi: `make` builds, `make check` installs what is missing and runs every
# test (plain, ASan+UBSan, valgrind), `make demo` runs the whole job on the
# simulated programmer.

BUILD    ?= build
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CC       ?= cc
PKGS     := libusb-1.0 json-c zlib nettle
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
# -Werror is for make check (it sets WERROR for its sub-makes); a plain or
# a packager's build on another compiler must not fail on a new warning.
WERROR   ?=
# CFLAGS, CPPFLAGS and LDFLAGS are the builder's (Debian's hardening flags);
# the project's own flags stay in BK_CFLAGS, so overriding CFLAGS keeps them.
CFLAGS   ?= -O2 -g
BK_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) -Iinclude -Isrc -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null)

# Three parts, one way down: the CLI over the product library (one public
# header, include/bkspi.h), and the emulator in a library of its own that
# the CLI's `sim` programmer and the tests use.
LIB_DIRS := base usb prog spi target beken core ui
# src/usb/webusb.c is the web build's USB backend (mk/web.mk), not a native one.
LIB_SRC  := $(filter-out src/usb/webusb.c,$(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c)))
EMU_SRC  := $(wildcard src/emu/*.c)
CLI_SRC  := $(filter-out src/cli/main.c,$(wildcard src/cli/*.c))
ALL_SRC  := $(LIB_SRC) $(EMU_SRC) $(CLI_SRC)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
EMU_OBJ  := $(EMU_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c tests/emu/test_*.c)
TEST_SUPPORT := $(filter-out $(TEST_SRC),$(wildcard tests/unit/*.c tests/emu/*.c))
TESTS    := $(TEST_SRC:%.c=$(BUILD)/%)
LIB      := $(BUILD)/libbkspi.a
EMU_LIB  := $(BUILD)/libbkemu.a
# What a program that uses everything links: order matters for archives.
LIBS     := $(CLI_OBJ) $(EMU_LIB) $(LIB)
BIN      := $(BUILD)/bkspi

# Test objects are kept: make would otherwise delete them as intermediates.
.SECONDARY:

.PHONY: all deps check test test-asan test-valgrind build-clang demo clean

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(BK_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(BK_CFLAGS) $(PKG_CFLAGS) -Itests -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(EMU_LIB): $(EMU_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/src/cli/main.o $(LIBS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT:%.c=$(BUILD)/%.o) $(LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(TEST_LIBS) $(PKG_LIBS) $(LDFLAGS)

deps:
	@scripts/deps.sh

# The three passes share the test list; each builds into its own folder.
check: export WERROR = -Werror
check: deps
	$(MAKE) build-clang
	$(MAKE) test
	$(MAKE) test-asan
	$(MAKE) test-valgrind

# gcc and clang warn about different things; both must stay clean.
build-clang:
	$(MAKE) BUILD=build-clang CC=clang $(BIN:$(BUILD)/%=build-clang/%) $(TESTS:$(BUILD)/%=build-clang/%)

test: $(BIN) $(TESTS)
	@tests/run.sh $(BUILD)

test-asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" test

test-valgrind: $(BIN) $(TESTS)
	@BKSPI_VALGRIND=1 tests/run.sh $(BUILD)

demo: deps $(BIN)
	@scripts/demo.sh $(BIN)

clean:
	rm -rf build build-asan build-clang build-fuzz

# Benchmarks, fuzzing and the libusb stand-in keep their rules beside them.
include $(wildcard mk/*.mk)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
