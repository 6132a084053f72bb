/* fuzz: one way to write a fuzz target, built two ways. A target is a
 * static function (data, size) -> 0 named by WSR_FUZZ_TARGET, in
 * tests/fuzz/fuzz_<name>.c. With -DWSR_FUZZ_LIBFUZZER (`make fuzz`, clang's
 * libFuzzer with ASan and UBSan) the macro makes it the
 * LLVMFuzzerTestOneInput of its own binary. Without it (`make test`) the
 * macro makes it wsr_fuzz_one, which tests/fuzz/replay.c links into the
 * cmocka binary test_fuzz_<name>: every input that once crashed the target
 * (tests/fuzz/regressions/<name>/) and every real input of its seed list
 * (tests/fuzz/<name>.seeds) go through it again with the ordinary compiler.
 * Targets must not keep state between calls. */
#ifndef WSR_TESTS_FUZZ_H
#define WSR_TESTS_FUZZ_H
#include <stddef.h>
#include <stdint.h>

#ifdef WSR_FUZZ_LIBFUZZER
#define WSR_FUZZ_TARGET(fn)                                                                        \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                              \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                               \
	{                                                                                          \
		return fn(data, size);                                                             \
	}
#else
int wsr_fuzz_one(const uint8_t *data, size_t size);
#define WSR_FUZZ_TARGET(fn)                                                                        \
	int wsr_fuzz_one(const uint8_t *data, size_t size)                                         \
	{                                                                                          \
		return fn(data, size);                                                             \
	}
#endif
#endif
