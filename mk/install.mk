# The manual page (doc/bkspi.1.scd, built with scdoc) and `make install` /
# `make uninstall`:
#
#	make install                        # under /usr/local
#	make install PREFIX=/usr DESTDIR=/tmp/stage
#
# The bash completion and the udev rule go where bash-completion and udev
# look for them (asked from pkg-config, with the usual fallbacks), not under
# PREFIX: udev reads no rules from /usr/local/share. Every directory can be
# set on the command line.

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(or $(shell pkg-config --variable=completionsdir bash-completion 2>/dev/null),/usr/share/bash-completion/completions)
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
UDEVDIR     ?= $(or $(shell pkg-config --variable=udevdir udev 2>/dev/null),/usr/lib/udev)
UDEVRULESDIR ?= $(UDEVDIR)/rules.d
INSTALL     ?= install
INSTALL_PROGRAM ?= $(INSTALL) -m 755
INSTALL_DATA    ?= $(INSTALL) -m 644

MAN        := $(BUILD)/bkspi.1
UDEV_RULE  := contrib/60-bkspi-ch341a.rules
BASH_COMP  := contrib/completion/bkspi.bash
ZSH_COMP   := contrib/completion/_bkspi

.PHONY: man install uninstall

all: $(MAN)
man: $(MAN)

# scdoc 1.11 leaves empty paragraph macros that mandoc -T lint reports;
# doc/tidy.awk drops them. SOURCE_DATE_EPOCH (set by dpkg) fixes the date.
$(MAN): doc/bkspi.1.scd doc/tidy.awk
	@command -v scdoc >/dev/null || { echo "bkspi: the man page needs scdoc: apt-get install scdoc (make deps does it as root)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	scdoc <doc/bkspi.1.scd | awk -f doc/tidy.awk >$@.tmp
	mv $@.tmp $@

# The binary is installed as built: stripping is the packager's business
# (dh_strip keeps the debug symbols apart).
install: $(BIN) $(MAN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(UDEVRULESDIR)
	$(INSTALL_PROGRAM) $(BIN) $(DESTDIR)$(BINDIR)/bkspi
	$(INSTALL_DATA) $(MAN) $(DESTDIR)$(MANDIR)/man1/bkspi.1
	$(INSTALL_DATA) $(BASH_COMP) $(DESTDIR)$(BASHCOMPDIR)/bkspi
	$(INSTALL_DATA) $(ZSH_COMP) $(DESTDIR)$(ZSHCOMPDIR)/_bkspi
	$(INSTALL_DATA) $(UDEV_RULE) $(DESTDIR)$(UDEVRULESDIR)/$(notdir $(UDEV_RULE))
	@echo
	@echo "bkspi is installed. For the programmer's udev rule to take effect, run as root:"
	@echo "    udevadm control --reload && udevadm trigger"
	@echo "then replug the CH341A. For ssh or headless use also run"
	@echo "    usermod -aG plugdev \$$USER"
	@echo "and log in again."

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/bkspi $(DESTDIR)$(MANDIR)/man1/bkspi.1 \
		$(DESTDIR)$(BASHCOMPDIR)/bkspi $(DESTDIR)$(ZSHCOMPDIR)/_bkspi \
		$(DESTDIR)$(UDEVRULESDIR)/$(notdir $(UDEV_RULE))
	@echo "bkspi is uninstalled; run 'udevadm control --reload' as root to drop its udev rule."
