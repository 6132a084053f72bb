/* sim_answer: what the emulators' fuzz targets (fuzz_lbsim, fuzz_kcpsim)
 * share: the input as the NUL-terminated text a request body is
 * (wsr_sim_req), and the one check of every answer. */
#ifndef WSR_TESTS_FUZZ_SIM_ANSWER_H
#define WSR_TESTS_FUZZ_SIM_ANSWER_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "sim/server.h"

/* 1 with WSR_FUZZ_TRACE set: print what each input made the emulator do
 * (WSR_FUZZ_TRACE=1 build/std/tests/test_fuzz_<name>), to see what a seed
 * exercises. */
static int sim_tracing(void)
{
	return getenv("WSR_FUZZ_TRACE") != NULL;
}

/* The input after its first byte as a new NUL-terminated text (size - 1
 * bytes and the NUL); NULL when out of memory. */
static char *sim_text(const uint8_t *data, size_t size)
{
	char *t = malloc(size);
	if (t) {
		memcpy(t, data + 1, size - 1);
		t[size - 1] = '\0';
	}
	return t;
}

/* Checks and frees the answer to method path. What a client relies on
 * whatever it sent: a status and, when there is a body, JSON (every answer
 * of both APIs is). A violation aborts, so libFuzzer keeps the input. */
static void sim_answered(wsr_sim_resp *r, const char *method, const char *path)
{
	cJSON *v = r->body && r->body[0] ? cJSON_Parse(r->body) : NULL;
	if (sim_tracing())
		fprintf(stderr, "%s %s: %d %.300s\n", method, path, r->status,
			r->body ? r->body : "");
	/* an injected reset or slow-before fault answers nothing (yet): the
	 * server closes the connection, or waits and calls again */
	int none = (r->reset || r->wait_first) && !r->status;
	if ((!none && (r->status < 100 || r->status > 599)) || (r->body && r->body[0] && !v)) {
		fprintf(stderr, "fuzz: %s %s answered %d with %.200s\n", method, path, r->status,
			r->body ? r->body : "no body");
		abort();
	}
	cJSON_Delete(v);
	wsr_sim_resp_free(r);
}
#endif
