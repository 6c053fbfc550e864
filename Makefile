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
