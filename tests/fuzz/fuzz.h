/* fuzz: one way to write a fuzz target, built two ways. A target is a
 * static function (data, size) -> 0 named by WSR_FUZZ_TARGET. With
 * -DWSR_FUZZ_LIBFUZZER (`make fuzz`, clang's libFuzzer with ASan and UBSan)
 * the macro makes it the LLVMFuzzerTestOneInput of its own binary; without
 * it the macro adds nothing, so tests/unit/test_fuzz_replay.c can include
 * every target and replay the inputs that once crashed one (kept under
 * tests/fuzz/regressions/<target>/) with the ordinary compiler in
 * `make test`. Targets must not keep state between calls. */
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
#define WSR_FUZZ_TARGET(fn)
#endif
#endif
