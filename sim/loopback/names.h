/* names: the platform's workspace-name rule and the opaque list cursor. Kept
 * apart from the handlers because both are pure string functions that the
 * unit tests pin down at their boundaries. */
#ifndef WSR_SIM_LOOPBACK_NAMES_H
#define WSR_SIM_LOOPBACK_NAMES_H

/* Longest stored workspace name. */
#define WSR_LBSIM_NAME_MAX 63
/* Longest key a cursor can carry (names, versions, cluster names). */
#define WSR_LBSIM_CURSOR_KEY_MAX 128
/* A cursor is the hex form of a key. */
#define WSR_LBSIM_CURSOR_MAX (2 * WSR_LBSIM_CURSOR_KEY_MAX)

/* Writes into out (WSR_LBSIM_NAME_MAX + 1 bytes) the name the platform stores
 * for a requested one: lowercased; every character outside [a-z0-9-] becomes
 * '-'; runs of '-' become one; leading and trailing '-' removed; cut to 63
 * characters and a trailing '-' removed again. "" when nothing is left. */
void wsr_lbsim_name_sanitize(char *out, const char *in);

/* 1 when s is non-empty and already in sanitized form. */
int wsr_lbsim_name_valid(const char *s);

/* Writes the cursor that resumes a list after key into out
 * (WSR_LBSIM_CURSOR_MAX + 1 bytes). Returns 0, or WSR_ELIMIT when key is
 * longer than WSR_LBSIM_CURSOR_KEY_MAX. */
int wsr_lbsim_cursor_encode(char *out, const char *key);

/* Decodes a cursor into the key it resumes after (out: WSR_LBSIM_CURSOR_KEY_MAX
 * + 1 bytes). Returns 0, or WSR_EINVAL for anything encode cannot produce. */
int wsr_lbsim_cursor_decode(char *out, const char *cursor);
#endif
