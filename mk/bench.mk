# The libusb stand-in (tests/shim) and the speed benchmark against flashrom
# (tests/bench): `make bench` prints the table, `make test` needs the .so
# for tests/cli/test_libusb.sh.

FAKEUSB     := $(BUILD)/libfakeusb.so
# The emulator and what it links against; kept to what it needs so the
# .so carries no CLI or libusb code of its own.
FAKEUSB_SRC := tests/shim/fake_libusb.c $(filter-out src/emu/driver.c,$(EMU_SRC)) src/usb/usb.c src/base/err.c \
               src/spi/protect.c src/beken/crc.c
FAKEUSB_OBJ := $(FAKEUSB_SRC:%.c=$(BUILD)/pic/%.o)
BENCH       := $(BUILD)/tests/bench/bench

.PHONY: bench

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(BK_CFLAGS) $(PKG_CFLAGS) -fPIC -ffunction-sections -fdata-sections -c $< -o $@

# -z defs: a symbol the emulator needs but the list above lacks fails here,
# not at preload time inside flashrom; --gc-sections drops what the
# emulator's files hold for other callers.
$(FAKEUSB): $(FAKEUSB_OBJ) tests/shim/fakeusb.map
	$(CC) $(CFLAGS) -shared -Wl,-z,defs -Wl,--gc-sections -Wl,--version-script=tests/shim/fakeusb.map \
		-o $@ $(FAKEUSB_OBJ) $(LDFLAGS)

$(BENCH): tests/bench/bench.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(BK_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

bench: $(BIN) $(FAKEUSB) $(BENCH)
	@tests/bench/run.sh $(BENCH) $(BIN) $(FAKEUSB)

test test-valgrind: $(FAKEUSB)
