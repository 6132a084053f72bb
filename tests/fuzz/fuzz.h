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

/* For a target that does several things: the entry of its table (n
 * entries, stride bytes apart, each starting with its letter) the input's
 * first byte chooses: the one with that letter, else entry byte % n, so
 * every byte chooses one. */
static inline size_t wsr_fuzz_pick(uint8_t byte, const void *table, size_t n, size_t stride)
{
	for (size_t i = 0; i < n; i++)
		if (*((const char *)table + i * stride) == (char)byte)
			return i;
	return byte % n;
}
#define WSR_FUZZ_PICK(byte, table)                                                                 \
	wsr_fuzz_pick((byte), (table), sizeof(table) / sizeof((table)[0]), sizeof((table)[0]))

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
