# pmemfs: `make run` mounts a 1 GiB emulated region at ./mnt; `make test` runs every test.
JAVA_HOME ?= /usr/lib/jvm/temurin-25-jdk-amd64
export JAVA_HOME
MVN ?= mvn
MVN_FLAGS ?= -B -ntp
REGION ?= /dev/shm/pmemfs.region
MNT ?= $(CURDIR)/mnt
PKGS := fuse3 libfuse2 fio xfsprogs
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

test: deps
	$(MVN) $(MVN_FLAGS) verify

run: build
	@bin/pmemfs-run "$(REGION)" "$(MNT)"

clean:
	$(MVN) $(MVN_FLAGS) -q clean

# make bench: fio suite on tmpfs, the no-op FUSE baselines (C/libfuse3, Java/jnr-fuse) and
# pmemfs (cached and DAX) side by side -> bench/out/report.md + PNGs. QUICK=1: about 1 min.
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
