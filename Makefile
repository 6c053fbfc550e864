# pmemfs: `make run` mounts a 1 GiB emulated region at ./mnt; `make test` runs every test.
JAVA_HOME ?= /usr/lib/jvm/temurin-25-jdk-amd64
export JAVA_HOME
MVN ?= mvn
MVN_FLAGS ?= -B -ntp
REGION ?= /dev/shm/pmemfs.region
MNT ?= $(CURDIR)/mnt
PKGS := fuse3 libfuse2 fio xfsprogs rsync
SHELL := /bin/bash

.PHONY: all build test run clean deps bench jmh install

all: build

# Installs the Debian packages the mount and the tests need, once (we run as root).
deps:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@test -x "$(JAVA_HOME)/bin/java" || { echo "no JDK at $(JAVA_HOME): set JAVA_HOME to a Java 25 JDK"; exit 1; }

fs/target/pmemfs-fs-0.1.0-SNAPSHOT.jar: $(shell find device cache fs -name '*.java' -o -name pom.xml 2>/dev/null) pom.xml
	$(MVN) $(MVN_FLAGS) -q -DskipTests package

build: deps fs/target/pmemfs-fs-0.1.0-SNAPSHOT.jar

# failsafe merges its summary with one left by an earlier run (e.g. a failed -Dit.test=...),
# so a stale failure would fail this run: start from none.
test: deps
	rm -f fs/target/failsafe-reports*/failsafe-summary.xml
	$(MVN) $(MVN_FLAGS) verify

# Mounts $(REGION) (made and formatted at 1 GiB if missing) at $(MNT) in the foreground; Ctrl-C unmounts.
run: build
	@mkdir -p "$(MNT)"
	@if [ ! -e "$(REGION)" ]; then bin/pmemfs mkfs --size 1G "$(REGION)"; fi
	@echo "pmemfs: mounting $(REGION) at $(MNT) in the foreground; Ctrl-C (or bin/pmemfs umount $(MNT)) unmounts."
	@echo "  try, in another shell:  cp -r /usr/share/doc/bash $(MNT)/ && ls -l $(MNT)/bash"
	@echo "                          bin/pmemfs stats $(MNT)     bin/pmemfs dax --set $(MNT)/bash/FAQ"
	@echo "                          fio --name=t --directory=$(MNT) --size=64M --rw=randwrite --bs=4k --verify=crc32c"
	@bin/pmemfs mount "$(REGION)" "$(MNT)"

# Puts `pmemfs` on PATH (a wrapper that knows this tree) and a mount helper, so that
# `mount -t fuse.pmemfs REGION MNT -o dax=inode,allow_other` works (mount.fuse3 runs `pmemfs REGION MNT -o ...`).
PREFIX ?= /usr/local
install: build
	install -d "$(DESTDIR)$(PREFIX)/bin"
	printf '#!/bin/sh\nPMEMFS_HOME=%s exec %s/bin/pmemfs "$$@"\n' "$(CURDIR)" "$(CURDIR)" > "$(DESTDIR)$(PREFIX)/bin/pmemfs"
	chmod 755 "$(DESTDIR)$(PREFIX)/bin/pmemfs"
	helper=$$(command -v mount.fuse3 || command -v mount.fuse || echo /sbin/mount.fuse3); \
	  install -d "$(DESTDIR)/sbin"; ln -sf "$$helper" "$(DESTDIR)/sbin/mount.fuse.pmemfs"
	@echo "installed $(PREFIX)/bin/pmemfs and /sbin/mount.fuse.pmemfs"

clean:
	$(MVN) $(MVN_FLAGS) -q clean

# make bench: fio suite on tmpfs, a C RAM filesystem on libfuse 3 (the baseline of the ratios),
# the no-op FUSE filesystems (C/libfuse3, Java/jnr-fuse) and pmemfs (cached and DAX, on each
# frontend it has) side by side, 4 KiB jobs pinned both ways -> bench/out/report.md + PNGs.
# Full: about 21 min; QUICK=1: about 3 min (a smoke test).
BENCH_PKGS := libfuse3-dev pkg-config gnuplot-nox fio fuse3 libfuse2
QUICK ?= 0
bench:
	@missing=""; for p in $(BENCH_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@mkdir -p bench/build
	@$(MAKE) -s -C bench/noop-c
	@bench/noop-java/build.sh
	@if [ -z "$(BENCH_SKIP_PMEMFS)" ]; then \
	  $(MAKE) -s build >bench/build/pmemfs-build.log 2>&1 \
	    || echo "pmemfs did not build (bench/build/pmemfs-build.log): its targets will be skipped"; \
	fi
	@QUICK=$(QUICK) bench/run.sh
