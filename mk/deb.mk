# The Debian package (debian/, built by scripts/deb.sh in a temporary copy
# of the tree): `make deb` builds and checks build/deb/bkspi_VERSION_ARCH.deb.
# make check runs the same as test-deb, which skips with one line when the
# packaging tools are missing; deps runs first there, so as root they are
# installed instead. The package's own build runs without its tests
# (nocheck), so this never recurses into make test or make check.

DEB_OUT := $(BUILD)/deb

.PHONY: deb test-deb

deb:
	@scripts/deb.sh $(DEB_OUT)

test-deb: $(if $(filter check,$(MAKECMDGOALS)),deps)
	@scripts/deb.sh --if-tools $(DEB_OUT)

check: test-deb
