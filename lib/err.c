/* err: descriptions for the shared error codes. */
#include "lib/err.h"

const char *wsr_strerror(int code)
{
	switch (code) {
	case WSR_OK:
		return "ok";
	case WSR_EINVAL:
		return "invalid input";
	case WSR_ENOMEM:
		return "out of memory";
	case WSR_EIO:
		return "input/output error";
	case WSR_ENOTFOUND:
		return "not found";
	case WSR_ECONFLICT:
		return "conflict";
	case WSR_ELOCKED:
		return "locked";
	case WSR_EHTTP:
		return "connection failed";
	case WSR_EAPI:
		return "refused by the platform";
	case WSR_ETIMEOUT:
		return "timed out";
	case WSR_ELIMIT:
		return "limit exceeded";
	case WSR_EINTR:
		return "interrupted";
	case WSR_ECORRUPT:
		return "corrupt data";
	}
	return "unknown error";
}
