/* names: kcp's string rules: workspace names, workspace paths, label keys
 * and values. Pure functions, kept apart so the unit tests pin them down at
 * their boundaries. */
#ifndef WSR_SIM_KCP_NAMES_H
#define WSR_SIM_KCP_NAMES_H
#include <stddef.h>

/* Longest workspace (and workspace type) name. */
#define WSR_KCPSIM_NAME_MAX 63
/* Longest workspace path ("root:acme:team-a"), in bytes. */
#define WSR_KCPSIM_PATH_MAX 1024
/* Longest label value, and label key without its prefix. */
#define WSR_KCPSIM_LABEL_MAX 63
/* Longest DNS prefix of a label or annotation key ("example.com/"). */
#define WSR_KCPSIM_LABEL_PREFIX_MAX 253

/* 1 for ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ */
int wsr_kcpsim_name_valid(const char *s);

/* 1 for names joined by ':' that start with "root", at most
 * WSR_KCPSIM_PATH_MAX bytes ("root", "root:acme:team-a"). */
int wsr_kcpsim_path_valid(const char *s);

/* 1 for a user name the emulator makes a home for: 1 to WSR_KCPSIM_NAME_MAX
 * characters of [A-Za-z0-9._@-], a letter or digit at both ends. kcp takes
 * any user name (pkg/index/rewriters/user.go hashes it); the emulator keeps
 * to names that are safe in a path segment and a file name, e-mail
 * addresses included. */
int wsr_kcpsim_home_user_valid(const char *s);

/* 1 for a path wsr_kcpsim_path_valid takes, or one below a home
 * ("user:alice", "user:alice:dev"): the paths a workspace can have. */
int wsr_kcpsim_ws_path_valid(const char *s);

/* 1 for a label or annotation key: [prefix/]name, name 1-63 characters of
 * [A-Za-z0-9._-] beginning and ending with a letter or digit, prefix a
 * lowercase DNS subdomain of at most 253 characters. */
int wsr_kcpsim_label_key_valid(const char *s);

/* 1 for a label value: empty, or like a key's name part. */
int wsr_kcpsim_label_value_valid(const char *s);
#endif
