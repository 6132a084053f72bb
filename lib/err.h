/* err: the error codes every wsr function returns (0 ok, negative on failure).
 * What the user must read goes into a wsr_diag; these codes are for control flow. */
#ifndef WSR_LIB_ERR_H
#define WSR_LIB_ERR_H

enum {
	WSR_OK = 0,
	WSR_EINVAL = -1,    /* bad input (reported in a wsr_diag) */
	WSR_ENOMEM = -2,    /* out of memory */
	WSR_EIO = -3,	    /* file system error */
	WSR_ENOTFOUND = -4, /* no such file, resource or address */
	WSR_ECONFLICT = -5, /* compare-and-swap lost, duplicate, stale plan */
	WSR_ELOCKED = -6,   /* a lock is held by someone else */
	WSR_EHTTP = -7,	    /* transport failure after retries */
	WSR_EAPI = -8,	    /* the platform refused the request */
	WSR_ETIMEOUT = -9,  /* an operation did not finish in time */
	WSR_ELIMIT = -10,   /* a named size or count limit was exceeded */
	WSR_EINTR = -11,    /* interrupted by a signal */
	WSR_ECORRUPT = -12, /* stored data is not in the expected format */
};

/* Returns a short constant description of an error code. */
const char *wsr_strerror(int code);

#endif
