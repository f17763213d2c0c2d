# bkspi in the browser (web/, src/usb/webusb.c, tests/web).
#
# `make web` compiles the product library, the CH341A driver and the page's
# C glue (web/api.c) to WebAssembly with Debian's emscripten into
# build/web/: index.html, bkspi.js and bkspi.wasm, nothing else, nothing
# fetched at run time. `make web-serve` serves that folder on
# http://127.0.0.1:8080 (WebUSB needs a secure context; localhost is one).
# `make test-web` runs the page in headless Chromium against the emulator
# compiled to WebAssembly behind a navigator.usb stand-in (tests/web);
# make check runs it, and `make bench` prints its speed line.
#
# libusb, json-c and nettle are not part of this build: the WebUSB backend
# replaces libusb.c, the page builds its own JSON, the Tuya decoder (the one
# user of nettle, only for `info`) is left out, and zlib's crc32 comes from
# web/crc32.c because Debian's emscripten cannot fetch its zlib port
# without the network.

WEB_OUT    := $(BUILD)/web
WEB_OBJDIR := $(BUILD)/wasm
WEB_TEST   := $(BUILD)/web-test
EMCC       := NODE_PATH=/usr/share/nodejs emcc
# BK_UI_NO_TUYA: the shared renderer leaves out the Tuya store, which needs AES.
WEB_CFLAGS := -O2 -std=c11 -D_GNU_SOURCE $(WARN) -Werror -DBK_UI_NO_TUYA -Iinclude -Isrc -Iweb/zlib -I. -MMD -MP
WEB_SRC    := $(filter-out src/beken/tuya.c src/beken/tuya_pins.c,\
                $(foreach d,base prog spi target beken core ui,$(wildcard src/$(d)/*.c))) \
              src/usb/usb.c src/usb/webusb.c web/api.c web/crc32.c
WEB_OBJ    := $(WEB_SRC:%.c=$(WEB_OBJDIR)/%.o)
# The emulator and what it links, as for the libusb stand-in (mk/bench.mk).
WEB_EMU_SRC := tests/web/emu_glue.c $(filter-out src/emu/driver.c,$(EMU_SRC)) src/usb/usb.c src/base/err.c \
               src/spi/protect.c src/beken/crc.c
WEB_EMU_OBJ := $(WEB_EMU_SRC:%.c=$(WEB_OBJDIR)/%.o)

WEB_LDFLAGS := -O2 -sASYNCIFY -sASYNCIFY_STACK_SIZE=65536 -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=web \
               -sEXPORTED_FUNCTIONS=_malloc,_free -sEXPORTED_RUNTIME_METHODS=ccall,UTF8ToString,FS \
               -sINCOMING_MODULE_JS_API=print,printErr,onRuntimeInitialized,bkLine,bkProgress,bkClock \
               --post-js web/page.js

.PHONY: web web-serve web-toolchain test-web bench-web web-screenshots

web: $(WEB_OUT)/index.html $(WEB_OUT)/bkspi.js

# Installs Debian's emscripten when root, as scripts/deps.sh does for the
# native build; otherwise names the package.
web-toolchain:
	@command -v emcc >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "bkspi: installing emscripten" >&2; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends emscripten >/dev/null; \
		else \
			echo "bkspi: make web needs emscripten: sudo apt-get install emscripten" >&2; exit 1; \
		fi; }

$(WEB_OBJDIR)/%.o: %.c | web-toolchain
	@mkdir -p $(dir $@)
	$(EMCC) $(WEB_CFLAGS) -c $< -o $@

$(WEB_OUT)/bkspi.js: $(WEB_OBJ) web/page.js | web-toolchain
	@mkdir -p $(dir $@)
	$(EMCC) $(WEB_LDFLAGS) -o $@ $(WEB_OBJ)

$(WEB_OUT)/index.html: web/index.html
	@mkdir -p $(dir $@)
	cp $< $@

web-serve: web
	@echo "bkspi: serving $(WEB_OUT) on http://127.0.0.1:8080 (Ctrl-C stops)"
	@cd $(WEB_OUT) && python3 -m http.server 8080 --bind 127.0.0.1

# The emulator as one self-contained script the stand-in loads.
$(WEB_TEST)/emu.js: $(WEB_EMU_OBJ) | web-toolchain
	@mkdir -p $(dir $@)
	$(EMCC) -O2 -sALLOW_MEMORY_GROWTH=1 -sMODULARIZE=1 -sEXPORT_NAME=BkEmu -sSINGLE_FILE=1 -sENVIRONMENT=web \
		-sEXPORTED_FUNCTIONS=_malloc,_free -sEXPORTED_RUNTIME_METHODS=ccall,UTF8ToString -o $@ $(WEB_EMU_OBJ)

# Without emscripten and without root to install it, one line says so.
WEB_CAN := command -v emcc >/dev/null 2>&1 || [ "$$(id -u)" = 0 ]

test-web: $(BIN)
	@if $(WEB_CAN); then $(MAKE) --no-print-directory web $(WEB_TEST)/emu.js && tests/web/run.sh $(BUILD); \
	else echo "skip: web: no emscripten (apt-get install emscripten)"; echo "0 passed, 0 failed, 1 skipped"; fi

bench-web: $(BIN)
	@if $(WEB_CAN); then $(MAKE) --no-print-directory web $(WEB_TEST)/emu.js && BKSPI_WEB_BENCH=1 tests/web/run.sh $(BUILD); \
	else echo "bench: web: no emscripten (apt-get install emscripten): skipping its line"; fi

# The README's screenshots, from the same run (doc/web-*.png).
web-screenshots: $(BIN)
	@$(MAKE) --no-print-directory web $(WEB_TEST)/emu.js && BKSPI_WEB_SHOTS=$(CURDIR)/doc tests/web/run.sh $(BUILD)

bench: bench-web
check: test-web
