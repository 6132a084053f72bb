/* selector: Kubernetes label selectors (equality- and set-based: a=b,
 * a==b, a!=b, a in (b,c), a notin (b,c), a, !a, a>1, a<1) and the one
 * field selector the emulator knows (metadata.name), parsed once and
 * matched against a workspace's name and labels. Lists and watches share
 * it. */
#ifndef WSR_SIM_KCP_SELECTOR_H
#define WSR_SIM_KCP_SELECTOR_H
#include <cJSON.h>

#include "sim/kcp/names.h"

/* Longest ?labelSelector= accepted. */
#define WSR_KCPSIM_SELECTOR_LEN 1024
/* Most requirements (comma-separated terms) in one label selector. */
#define WSR_KCPSIM_SELECTOR_TERMS 16
/* Most values in one "in (...)" or "notin (...)". */
#define WSR_KCPSIM_SELECTOR_VALUES 16
/* Room for the reason a selector is refused. */
#define WSR_KCPSIM_SELECTOR_WHY 512

typedef struct wsr_kcpsim_req_term {
	const char *key;
	enum {
		WSR_SEL_IN,
		WSR_SEL_NOTIN,
		WSR_SEL_EXISTS,
		WSR_SEL_ABSENT,
		WSR_SEL_GT,
		WSR_SEL_LT
	} op;
	const char *values[WSR_KCPSIM_SELECTOR_VALUES];
	int nvalues;
} wsr_kcpsim_req_term;

typedef struct wsr_kcpsim_selector {
	wsr_kcpsim_req_term t[WSR_KCPSIM_SELECTOR_TERMS];
	int n;
	int has_name; /* fieldSelector metadata.name= */
	char name[WSR_KCPSIM_NAME_MAX + 1];
	/* the tokens the terms point at, each NUL-terminated */
	char tokens[2 * WSR_KCPSIM_SELECTOR_LEN + 2];
} wsr_kcpsim_selector;

/* Parses a label selector and a field selector (either NULL or ""). 0, or
 * -1 with why (WSR_KCPSIM_SELECTOR_WHY bytes) set to Kubernetes' kind of
 * message ("unable to parse requirement: found '', expected: ')'"). */
int wsr_kcpsim_selector_parse(wsr_kcpsim_selector *sel, const char *labels, const char *fields,
			      char *why);

/* Copies a parsed selector (its terms point into its own tokens). */
void wsr_kcpsim_selector_copy(wsr_kcpsim_selector *dst, const wsr_kcpsim_selector *src);

/* 1 when an object named name with the labels (an object, or NULL) is
 * selected. */
int wsr_kcpsim_selector_match(const wsr_kcpsim_selector *sel, const char *name,
			      const cJSON *labels);
#endif
