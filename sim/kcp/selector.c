/* selector: a small lexer and recursive-descent parser in the shape of
 * Kubernetes' own (k8s.io/apimachinery/pkg/labels/selector.go), so a
 * selector is refused where Kubernetes refuses it, with the same kind of
 * message. Identifiers are copied into the selector's token buffer, so
 * matching needs no allocation. */
#include "sim/kcp/selector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

enum tok { T_END, T_IDENT, T_NOT, T_NE, T_LP, T_RP, T_COMMA, T_EQ, T_EQEQ, T_GT, T_LT };

typedef struct lexer {
	const char *p;
	wsr_kcpsim_selector *sel;
	size_t used;	   /* bytes of sel->tokens taken */
	const char *ident; /* the last identifier, in sel->tokens */
	char lit[72];	   /* the last token as written, for messages */
	char *why;
} lexer;

static int special(char c)
{
	return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next token; an identifier is copied to sel->tokens (ident). */
static enum tok next(lexer *l)
{
	static const struct {
		const char *s;
		enum tok t;
	} syms[] = {{"!=", T_NE},   {"==", T_EQEQ}, {"!", T_NOT}, {"(", T_LP}, {")", T_RP},
		    {",", T_COMMA}, {"=", T_EQ},    {">", T_GT},  {"<", T_LT}};
	while (blank(*l->p))
		l->p++;
	l->lit[0] = '\0';
	if (!*l->p)
		return T_END;
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		size_t n = strlen(syms[i].s);
		if (strncmp(l->p, syms[i].s, n) == 0) {
			snprintf(l->lit, sizeof(l->lit), "%s", syms[i].s);
			l->p += n;
			return syms[i].t;
		}
	}
	size_t n = 0;
	while (l->p[n] && !blank(l->p[n]) && !special(l->p[n]))
		n++;
	char *dst = l->sel->tokens + l->used; /* the input is at most half the buffer */
	memcpy(dst, l->p, n);
	dst[n] = '\0';
	l->used += n + 1;
	l->ident = dst;
	snprintf(l->lit, sizeof(l->lit), "%.*s", n > 64 ? 64 : (int)n, l->p);
	l->p += n;
	return T_IDENT;
}

/* The next token without taking it (an identifier's copy is overwritten
 * by the next call of next). */
static enum tok peek(lexer *l)
{
	lexer copy = *l;
	return next(&copy);
}

static int failf(lexer *l, const char *fmt, const char *lit)
{
	char msg[WSR_KCPSIM_SELECTOR_WHY - 32];
	snprintf(msg, sizeof(msg), fmt, lit);
	snprintf(l->why, WSR_KCPSIM_SELECTOR_WHY, "unable to parse requirement: %s", msg);
	return -1;
}

/* Adds one value to t; -1 (with why) when t has its most already. */
static int add_value(lexer *l, wsr_kcpsim_req_term *t, const char *v)
{
	if (t->nvalues == WSR_KCPSIM_SELECTOR_VALUES) {
		snprintf(l->why, WSR_KCPSIM_SELECTOR_WHY,
			 "unable to parse requirement: values[%d][%.100s]: Too many: more than %d "
			 "values",
			 WSR_KCPSIM_SELECTOR_VALUES, t->key, WSR_KCPSIM_SELECTOR_VALUES);
		return -1;
	}
	t->values[t->nvalues++] = v;
	return 0;
}

/* The values of "in (...)"/"notin (...)", after the '('; an empty entry
 * ("(a,)", "(a,,b)") is the empty value, as in Kubernetes. */
static int parse_set(lexer *l, wsr_kcpsim_req_term *t)
{
	int want_value = 1, any = 0;
	for (;;) {
		enum tok k = next(l);
		int rc = 0;
		if (k == T_RP) {
			if (want_value && any)
				rc = add_value(l, t, "");
			if (rc)
				return rc;
			break;
		}
		if (k == T_COMMA) {
			if (want_value)
				rc = add_value(l, t, "");
			want_value = 1;
		} else if (k == T_IDENT && want_value) {
			rc = add_value(l, t, l->ident);
			want_value = 0;
		} else
			return failf(l,
				     want_value ? "found '%s', expected: ',', ')' or identifier"
						: "found '%s', expected: ',' or ')'",
				     l->lit);
		if (rc)
			return rc;
		any = 1;
	}
	if (t->nvalues == 0)
		return failf(l, "%sfor 'in', 'notin' operators, values set can't be empty", "");
	return 0;
}

/* After the key: the operator and its value(s). */
static int parse_operator(lexer *l, wsr_kcpsim_req_term *t)
{
	enum tok k = peek(l);
	if (k == T_END || k == T_COMMA) {
		t->op = WSR_SEL_EXISTS;
		return 0;
	}
	k = next(l);
	if (k == T_IDENT && (strcmp(l->ident, "in") == 0 || strcmp(l->ident, "notin") == 0)) {
		t->op = strcmp(l->ident, "in") == 0 ? WSR_SEL_IN : WSR_SEL_NOTIN;
		if (next(l) != T_LP)
			return failf(l, "found '%s', expected: '('", l->lit);
		return parse_set(l, t);
	}
	if (k != T_EQ && k != T_EQEQ && k != T_NE && k != T_GT && k != T_LT)
		return failf(l, "found '%s', expected: in, notin, =, ==, !=, gt, lt", l->lit);
	t->op = k == T_NE   ? WSR_SEL_NOTIN
		: k == T_GT ? WSR_SEL_GT
		: k == T_LT ? WSR_SEL_LT
			    : WSR_SEL_IN;
	enum tok v = peek(l);
	if (v == T_END || v == T_COMMA) /* "a=" selects the empty value */
		t->values[t->nvalues++] = "";
	else if (next(l) == T_IDENT)
		t->values[t->nvalues++] = l->ident;
	else
		return failf(l, "found '%s', expected: identifier", l->lit);
	return 0;
}

/* 1 for a decimal integer (Gt and Lt compare those). */
static int integer(const char *s, long long *out)
{
	char *end;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return *s && !*end && errno == 0;
}

static int check_term(lexer *l, const wsr_kcpsim_req_term *t)
{
	long long n;
	if (!wsr_kcpsim_label_key_valid(t->key)) {
		snprintf(l->why, WSR_KCPSIM_SELECTOR_WHY,
			 "unable to parse requirement: key: Invalid value: \"%.100s\": name part "
			 "must consist of alphanumeric characters, '-', '_' or '.', and must start "
			 "and end with an alphanumeric character",
			 t->key);
		return -1;
	}
	for (int i = 0; i < t->nvalues; i++) {
		int num = t->op == WSR_SEL_GT || t->op == WSR_SEL_LT;
		if (num ? !integer(t->values[i], &n)
			: !wsr_kcpsim_label_value_valid(t->values[i])) {
			snprintf(
			    l->why, WSR_KCPSIM_SELECTOR_WHY,
			    num ? "unable to parse requirement: values[%d][%.100s]: Invalid "
				  "value: \"%.100s\": for 'Gt', 'Lt' operators, the value must "
				  "be an integer"
				: "unable to parse requirement: values[%d][%.100s]: Invalid "
				  "value: \"%.100s\": a valid label must be an empty string or "
				  "consist of alphanumeric characters, '-', '_' or '.', and "
				  "must start and end with an alphanumeric character",
			    i, t->key, t->values[i]);
			return -1;
		}
	}
	return 0;
}

static int parse_requirement(lexer *l, wsr_kcpsim_req_term *t)
{
	enum tok k = next(l);
	memset(t, 0, sizeof(*t));
	if (k == T_NOT) {
		if (next(l) != T_IDENT)
			return failf(l, "found '%s', expected: identifier", l->lit);
		t->key = l->ident;
		t->op = WSR_SEL_ABSENT;
	} else {
		t->key = l->ident; /* the caller saw an identifier */
		if (parse_operator(l, t))
			return -1;
	}
	return check_term(l, t);
}

static int parse_labels(wsr_kcpsim_selector *sel, const char *s, char *why)
{
	lexer l = {s, sel, 0, NULL, "", why};
	if (strlen(s) > WSR_KCPSIM_SELECTOR_LEN) {
		snprintf(why, WSR_KCPSIM_SELECTOR_WHY, "labelSelector is longer than %d bytes",
			 WSR_KCPSIM_SELECTOR_LEN);
		return -1;
	}
	for (;;) {
		enum tok k = peek(&l);
		if (k == T_END)
			return 0;
		if (k != T_IDENT && k != T_NOT) {
			next(&l);
			snprintf(why, WSR_KCPSIM_SELECTOR_WHY,
				 "found '%s', expected: !, identifier, or 'end of string'", l.lit);
			return -1;
		}
		if (sel->n == WSR_KCPSIM_SELECTOR_TERMS) {
			snprintf(why, WSR_KCPSIM_SELECTOR_WHY,
				 "labelSelector has more than %d requirements",
				 WSR_KCPSIM_SELECTOR_TERMS);
			return -1;
		}
		if (parse_requirement(&l, &sel->t[sel->n++]))
			return -1;
		k = next(&l);
		if (k == T_END)
			return 0;
		if (k != T_COMMA) {
			snprintf(why, WSR_KCPSIM_SELECTOR_WHY,
				 "found '%s', expected: ',' or 'end of string'", l.lit);
			return -1;
		}
		k = peek(&l);
		if (k != T_IDENT && k != T_NOT) {
			next(&l);
			snprintf(why, WSR_KCPSIM_SELECTOR_WHY,
				 "found '%s', expected: identifier after ','", l.lit);
			return -1;
		}
	}
}

static int parse_fields(wsr_kcpsim_selector *sel, const char *fs, char *why)
{
	const char *v = strncmp(fs, "metadata.name==", 15) == 0	 ? fs + 15
			: strncmp(fs, "metadata.name=", 14) == 0 ? fs + 14
								 : NULL;
	if (!v || strlen(v) > WSR_KCPSIM_NAME_MAX) {
		snprintf(why, WSR_KCPSIM_SELECTOR_WHY,
			 "field label not supported in \"%.200s\" (only metadata.name=)", fs);
		return -1;
	}
	strcpy(sel->name, v);
	sel->has_name = 1;
	return 0;
}

int wsr_kcpsim_selector_parse(wsr_kcpsim_selector *sel, const char *labels, const char *fields,
			      char *why)
{
	memset(sel, 0, sizeof(*sel));
	why[0] = '\0';
	if (labels && labels[0] && parse_labels(sel, labels, why))
		return -1;
	return fields && fields[0] ? parse_fields(sel, fields, why) : 0;
}

static int term_matches(const wsr_kcpsim_req_term *t, const char *v)
{
	long long have, want;
	int in = 0;
	for (int i = 0; v && i < t->nvalues; i++)
		in = in || strcmp(v, t->values[i]) == 0;
	switch (t->op) {
	case WSR_SEL_IN:
		return in;
	case WSR_SEL_NOTIN:
		return !in;
	case WSR_SEL_EXISTS:
		return v != NULL;
	case WSR_SEL_ABSENT:
		return v == NULL;
	default: /* Gt, Lt: the label must be an integer too */
		if (!v || !integer(v, &have) || !integer(t->values[0], &want))
			return 0;
		return t->op == WSR_SEL_GT ? have > want : have < want;
	}
}

int wsr_kcpsim_selector_match(const wsr_kcpsim_selector *sel, const char *name, const cJSON *labels)
{
	if (sel->has_name && strcmp(sel->name, name) != 0)
		return 0;
	for (int i = 0; i < sel->n; i++)
		if (!term_matches(&sel->t[i], wsr_json_str(labels, sel->t[i].key)))
			return 0;
	return 1;
}

/* A pointer into src's tokens, moved to the same place in dst's. */
static const char *moved(const wsr_kcpsim_selector *src, wsr_kcpsim_selector *dst, const char *p)
{
	if (p < src->tokens || p >= src->tokens + sizeof(src->tokens))
		return p; /* a literal ("") */
	return dst->tokens + (p - src->tokens);
}

void wsr_kcpsim_selector_copy(wsr_kcpsim_selector *dst, const wsr_kcpsim_selector *src)
{
	*dst = *src;
	for (int i = 0; i < dst->n; i++) {
		dst->t[i].key = moved(src, dst, src->t[i].key);
		for (int j = 0; j < dst->t[i].nvalues; j++)
			dst->t[i].values[j] = moved(src, dst, src->t[i].values[j]);
	}
}
