/* page: list paging as Kubernetes does it: ?limit= and ?continue=. A
 * continue token names the last item of the page it ends (so it resumes
 * after that name however the list changed meanwhile) and the time it was
 * handed out (so it can expire), and carries a MAC over both and the list
 * it belongs to, so a token the server did not hand out, or one from
 * another list, is told apart (410 Gone). */
#ifndef WSR_SIM_KCP_PAGE_H
#define WSR_SIM_KCP_PAGE_H
#include <stddef.h>
#include <stdint.h>

#include "sim/kcp/names.h"

/* Longest continue token accepted (and handed out: a name is at most 63
 * bytes, 126 hex digits, a dot, up to 19 digits of time, a dot and a
 * 32-digit MAC). */
#define WSR_KCPSIM_CONTINUE_MAX 256

/* Writes the token that resumes list (which names the list and where it is,
 * "root:acme/workspaces") after the name last, handed out at issued (ms),
 * into out (WSR_KCPSIM_CONTINUE_MAX + 1 bytes), signed with secret (32
 * bytes). */
int wsr_kcpsim_continue_encode(char *out, const unsigned char *secret, const char *list,
			       const char *last, int64_t issued);

/* Checks a token against list and writes the name it resumes after into
 * last (WSR_KCPSIM_NAME_MAX + 1 bytes) and when it was handed out into
 * *issued. WSR_EINVAL for anything encode did not produce for this list
 * with this secret. */
int wsr_kcpsim_continue_decode(char *last, int64_t *issued, const unsigned char *secret,
			       const char *list, const char *token);
#endif
