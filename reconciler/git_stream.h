/* git_stream: the TCP connections of libgit2 (git://, http://, and under
 * its TLS https://) made by wsr, with the timeouts libgit2 1.5 lacks.
 * libgit2 1.5 blocks in connect() and recv() for as long as the kernel
 * lets it, so a Git server that accepts and never answers would hold
 * `wsr watch` forever; its progress callbacks only run while data arrives.
 * This stream waits with poll() instead: connecting may take connect_ms,
 * the server may stay silent for stall_ms, and nothing runs past
 * deadline_ms. ssh:// goes through the same connect (libssh2 then reads
 * the socket itself, bounded by the progress callbacks only). */
#ifndef WSR_RECONCILER_GIT_STREAM_H
#define WSR_RECONCILER_GIT_STREAM_H
#include <stdint.h>

/* The bounds of this thread's Git network operation. */
typedef struct wsr_git_bounds {
	int64_t deadline_ms; /* a wsr_clock_mono_ms() time; 0: none */
	int64_t connect_ms;  /* longest connection; 0: up to the deadline */
	int64_t stall_ms;    /* longest silence (no byte in or out); 0: up to the deadline */
	int timed_out;	     /* set when a bound ended the operation */
	char why[160];	     /* then: which bound, for the message */
} wsr_git_bounds;

/* Makes libgit2 use this stream for every plain TCP connection of the
 * process (idempotent; call after git_libgit2_init). 0 or -1. */
int wsr_git_stream_register(void);

/* Sets the bounds the calling thread's connections obey until the next
 * call; NULL: none (blocking, as libgit2's own). b must outlive the
 * operation: a bound that ends it is recorded there. */
void wsr_git_stream_bounds(wsr_git_bounds *b);
#endif
