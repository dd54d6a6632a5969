# The whole project from one place. `make up` and `make test` are the two commands a new
# clone needs; everything else is a thin wrapper over scripts/ or a sub-Makefile.
.DEFAULT_GOAL := help
SHELL := /bin/bash

.PHONY: help up down reset run status build test test-unit test-valgrind bench fuzz chaos soak \
	images clean format lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

up: ## install what is missing, build, start PostgreSQL, Redis, backend and nginx on loopback
	@scripts/stack.sh up

down: ## stop everything `make up` started (data stays)
	@scripts/stack.sh down

reset: ## stop everything and delete the local data (.local/)
	@scripts/stack.sh reset

run: ## like `make up`, in the foreground; Ctrl-C stops everything
	@scripts/stack.sh run

status: ## what the local stack runs
	@scripts/stack.sh status

build: ## build the backend and autoscaler-view (release and sanitizer builds)
	@$(MAKE) -s -C backend release asan

test: ## the whole test suite (unit, integration, fuzz smoke, abuse, browser, images, manifests)
	@scripts/test.sh

test-unit: ## unit tests only, under ASan + UBSan
	@$(MAKE) -s -C backend check

test-valgrind: ## integration requests against the backend under valgrind memcheck
	@scripts/test-valgrind.sh

bench: ## benchmarks (wrk): throughput, latency, CPU per request, memory
	@bench/bench.sh

fuzz: ## run every libFuzzer harness (FUZZ_SECONDS each, default 60)
	@scripts/fuzz.sh $(FUZZ_SECONDS)

chaos: ## mixed load while Redis and PostgreSQL are killed and restarted; verifies nothing is lost
	@scripts/chaos.sh

soak: ## a million requests, resident memory before and after
	@scripts/soak.sh

images: ## build the container images (docker, or buildah without a Docker engine)
	@scripts/images.sh

# Every C file of the project, formatted by the one .clang-format at the top.
C_SOURCES = $(wildcard backend/src/*.[ch] backend/src/view/*.[ch] backend/tests/unit/*.[ch] \
	backend/fuzz/*.[ch] bench/ceiling/*.c)

format: ## clang-format the C sources
	@clang-format -i $(C_SOURCES)

lint: ## fail when a C source is not formatted as .clang-format says (make format fixes it)
	@clang-format --dry-run --Werror $(C_SOURCES)

clean: ## remove build outputs
	@$(MAKE) -s -C backend clean
