/* utf8: the one definition of well-formed UTF-8 every reader uses (the YAML
 * loader, diagnostics that quote input, kcp's home-name rule). Well formed
 * means what Go's utf8.DecodeRune accepts, which kcp's own checks use: no
 * overlong forms, surrogates or code points past U+10FFFF. */
#ifndef WSR_LIB_UTF8_H
#define WSR_LIB_UTF8_H
#include <stddef.h>

/* Length (1 to 4) of the well-formed UTF-8 sequence at s, n >= 1 bytes
 * left, or 0 when the byte at s does not start one. A NUL byte is a
 * sequence of 1 (callers that refuse NUL check for it). */
size_t wsr_utf8_len(const unsigned char *s, size_t n);

/* Checks that len bytes are valid UTF-8 with no NUL; on failure returns
 * WSR_EINVAL and the 1-based line and column of the first bad byte. */
int wsr_utf8_check(const char *s, size_t len, int *line, int *col);
#endif
