/* names: Kubernetes' own rules (RFC 1123 labels for names, qualified names
 * for label keys), which kcp applies unchanged. */
#include "sim/kcp/names.h"

#include <stdio.h>
#include <string.h>

static int lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* n bytes of s form an RFC 1123 label of at most max characters. */
static int label_n(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int wsr_kcpsim_name_valid(const char *s)
{
	return label_n(s, strlen(s), WSR_KCPSIM_NAME_MAX);
}

int wsr_kcpsim_path_valid(const char *s)
{
	size_t len = strlen(s);
	if (len > WSR_KCPSIM_PATH_MAX || strncmp(s, "root", 4) != 0 || (s[4] && s[4] != ':'))
		return 0;
	for (const char *p = s; *p;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		if (!label_n(p, n, WSR_KCPSIM_NAME_MAX))
			return 0;
		p += n;
		if (*p == ':' && !*++p)
			return 0; /* a trailing ':' */
	}
	return 1;
}

/* n bytes of s are a home's user name (wsr_kcpsim_home_user_valid). */
static int home_user_n(const char *s, size_t n)
{
	if (n == 0 || n > WSR_KCPSIM_NAME_MAX || !alnum(s[0]) || !alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && !strchr("._@-", s[i]))
			return 0;
	return 1;
}

int wsr_kcpsim_home_user_valid(const char *s)
{
	return home_user_n(s, strlen(s));
}

int wsr_kcpsim_ws_path_valid(const char *s)
{
	char below[WSR_KCPSIM_PATH_MAX + 1];
	if (strncmp(s, "user:", 5) != 0)
		return wsr_kcpsim_path_valid(s);
	const char *home = s + 5;
	size_t n = strcspn(home, ":");
	if (strlen(s) > WSR_KCPSIM_PATH_MAX || !home_user_n(home, n))
		return 0;
	if (!home[n])
		return 1;
	/* below the home, the same rules as below root */
	snprintf(below, sizeof(below), "root%s", home + n);
	return wsr_kcpsim_path_valid(below);
}

/* A qualified name's name part (or a label value): 1-63 characters. */
static int qualified_n(const char *s, size_t n)
{
	if (n == 0 || n > WSR_KCPSIM_LABEL_MAX || !alnum(s[0]) || !alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* A DNS subdomain: RFC 1123 labels joined by '.', at most 253 characters. */
static int subdomain_n(const char *s, size_t n)
{
	if (n == 0 || n > WSR_KCPSIM_LABEL_PREFIX_MAX)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j] != '.')
			j++;
		if (!label_n(s + i, j - i, WSR_KCPSIM_NAME_MAX) || (j < n && j + 1 == n))
			return 0;
		i = j + 1;
	}
	return 1;
}

int wsr_kcpsim_label_key_valid(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return qualified_n(s, strlen(s));
	return subdomain_n(s, (size_t)(slash - s)) && qualified_n(slash + 1, strlen(slash + 1));
}

int wsr_kcpsim_label_value_valid(const char *s)
{
	return !s[0] || qualified_n(s, strlen(s));
}
