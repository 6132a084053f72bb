# wsr — workspace reconciler. `make demo` and `make test` are the two commands
# a newcomer needs; both install missing Debian packages first (make deps).
#
# Sources are found by folder, so adding a file needs no edit here:
#   lib/ schema/ state/ providers/ sim/ reconciler/   -> static archives
#   reconciler/main.c -> bin/wsr, sim/main.c -> bin/wsr-sim
#   tests/unit/test_*.c -> one cmocka binary each
#   tests/fuzz/fuzz_*.c -> one libFuzzer binary each (`make fuzz`), and with
#                          tests/fuzz/replay.c one cmocka binary each
#                          (test_fuzz_*) replaying its inputs in `make test`
# SANITIZE=1 builds everything with ASan+UBSan into build/san/ instead (with
# float-cast-overflow, which gcc leaves out of -fsanitize=undefined: it is how
# a cast of an API number such as 1e30 to an integer shows);
# SANITIZE=fuzz with clang, ASan, UBSan and libFuzzer's coverage into build/fuzz/.
# SANITIZE=thread with ThreadSanitizer into build/tsan/; `make test
# SANITIZE=thread` runs the groups in TSAN_TESTS (those whose code runs on
# several threads) unless TESTS names others.

PKGS     := yaml-0.1 libcurl libcjson libmicrohttpd openssl libgit2
CC       ?= cc
OPT      ?= -O2
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
O        := build/san
BIN      := build/san/bin
SANFLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
else ifeq ($(SANITIZE),fuzz)
O        := build/fuzz
BIN      := build/fuzz/bin
CC       := clang
SANFLAGS := -fsanitize=address,undefined,float-cast-overflow,fuzzer-no-link -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
else ifeq ($(SANITIZE),thread)
O        := build/tsan
BIN      := build/tsan/bin
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
# Unit binaries and integration groups that run code on several threads
# (docs/reliability.md, "Valgrind and ThreadSanitizer", says which threads).
TSAN_TESTS := test_http test_fs test_metrics test_kcp_wire test_loopback_wire \
              test_loopback_sim test_kcpsim test_sim_api test_sim_stream test_watch_http \
              test_plan_apply test_apply_interrupt test_day_two test_kcp_tree test_watch \
              test_etcd test_state_etcd
export TESTS ?= $(TSAN_TESTS)
# Every process's reports go to one folder, which tests/run.sh checks after
# each group; tests/tsan.supp holds third-party races only.
export WSR_SANITIZER_LOGS := $(abspath build/tsan/reports)
export TSAN_OPTIONS := log_path=$(WSR_SANITIZER_LOGS)/tsan second_deadlock_stack=1 \
                       suppressions=$(abspath tests/tsan.supp)
# 5 to 15 times slower: the tests check what is done, and time bounds only
# in the ordinary build (tests/unit/test_state.c, tests/integration/test_watch.sh)
export WSR_TEST_UNTIMED := 1
else
O        := build/std
BIN      := bin
SANFLAGS :=
endif

CFLAGS   = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) $(SANFLAGS) -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LDFLAGS  = $(SANFLAGS)
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

find_c = $(shell find $(1) -name '*.c' 2>/dev/null | sort)

LIB_SRC   := $(call find_c,lib)
SCHEMA_SRC:= $(call find_c,schema)
STATE_SRC := $(call find_c,state)
PROV_SRC  := $(call find_c,providers)
SIM_SRC   := $(filter-out sim/main.c,$(call find_c,sim))
CORE_SRC  := $(filter-out reconciler/main.c,$(call find_c,reconciler))
EMBED     := $(sort $(wildcard schema/*.json)) $(sort $(wildcard sim/*/seed.yaml))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRC))
REPLAY_BIN:= $(patsubst tests/fuzz/fuzz_%.c,$(O)/tests/test_fuzz_%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60

objs = $(patsubst %.c,$(O)/obj/%.o,$(1))

A_LIB    := $(O)/libwsr_lib.a
A_SCHEMA := $(O)/libwsr_schema.a
A_STATE  := $(O)/libwsr_state.a
A_PROV   := $(O)/libwsr_providers.a
A_SIM    := $(O)/libwsr_sim.a
A_CORE   := $(O)/libwsr_core.a
# Link order follows the dependency direction: reconciler -> ... -> lib.
ARCHIVES := $(A_CORE) $(A_PROV) $(A_SCHEMA) $(A_STATE) $(A_SIM) $(A_LIB)

.PHONY: all deps build demo test unit integration bench soak fuzz fuzzers fmt lint clean
.DEFAULT_GOAL := all

all: build

deps:
	@sh scripts/deps.sh

# The real build runs in a sub-make so pkg-config sees packages `deps` just installed.
build: deps
	@$(MAKE) --no-print-directory binaries

binaries: $(BIN)/wsr $(BIN)/wsr-sim $(UNIT_BIN) $(REPLAY_BIN)

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/embedded.c: $(EMBED) $(O)/embed
	$(O)/embed $(EMBED) > $@.tmp && mv $@.tmp $@

$(O)/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O1 -o $@ $<

$(O)/obj/embedded.o: $(O)/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(A_LIB): $(call objs,$(LIB_SRC)) $(O)/obj/embedded.o
$(A_SCHEMA): $(call objs,$(SCHEMA_SRC))
$(A_STATE): $(call objs,$(STATE_SRC))
$(A_PROV): $(call objs,$(PROV_SRC))
$(A_SIM): $(call objs,$(SIM_SRC))
$(A_CORE): $(call objs,$(CORE_SRC))
$(O)/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/wsr: $(O)/obj/reconciler/main.o $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ARCHIVES) $(LDLIBS)

$(BIN)/wsr-sim: $(O)/obj/sim/main.o $(A_SIM) $(A_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(A_SIM) $(A_LIB) $(LDLIBS)

$(O)/tests/%: tests/unit/%.c $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ARCHIVES) $(LDLIBS) -lcmocka

$(O)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DWSR_FUZZ_NAME='"$*"' $(LDFLAGS) -o $@ $< tests/fuzz/replay.c \
		$(ARCHIVES) $(LDLIBS) -lcmocka

demo: build
	@sh scripts/demo.sh $(BIN)

test: build
	@WSR_BIN=$(abspath $(BIN)) WSR_UNIT=$(abspath $(O)/tests) sh tests/run.sh

bench: build
	@WSR_BIN=$(abspath $(BIN)) sh bench/plan.sh
	@WSR_BIN=$(abspath $(BIN)) sh bench/state_etcd.sh

# The campaigns of tests/soak/ (crash, faults, disk, watch; not part of
# `make test`): each prints its figures and fails on any violation.
# Knobs: SOAK_CAMPAIGNS, SOAK_TRIALS, SOAK_RECONCILES, ... (docs/reliability.md).
soak: build
	@WSR_BIN=$(abspath $(BIN)) sh tests/soak/run.sh

# Every fuzz target for FUZZ_SECONDS each (tests/fuzz/run.sh); clang comes
# from `make deps` with FUZZ=1. Fails on any crash, leak, timeout or OOM.
fuzz:
	@FUZZ=1 sh scripts/deps.sh
	@$(MAKE) --no-print-directory SANITIZE=fuzz fuzzers
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh build/fuzz/fuzz

fuzzers: $(FUZZ_BIN)

$(O)/fuzz/%: tests/fuzz/%.c $(ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DWSR_FUZZ_LIBFUZZER -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(ARCHIVES) $(LDLIBS)

# Every unit test and one end-to-end plan/apply against `wsr-sim serve`, wsr
# and wsr-sim under valgrind's memcheck (tests/valgrind/run.sh): fails on any
# memory error or definite leak. Uses the ordinary build (bin/, build/std/);
# valgrind comes from `make deps` with VALGRIND=1.
.PHONY: valgrind
valgrind:
	@VALGRIND=1 sh scripts/deps.sh
	@$(MAKE) --no-print-directory SANITIZE=0 binaries
	@WSR_BIN=$(abspath bin) WSR_UNIT=$(abspath build/std/tests) sh tests/valgrind/run.sh

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -I. $$(git ls-files '*.c')

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
