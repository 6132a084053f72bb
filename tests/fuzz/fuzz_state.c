/* fuzz_state: one fuzzed state file through the file backend's read
 * (state/file.c, then wsr_state_from_json's checks in state/state.c), as
 * every plan, apply and `wsr state` command starts. A state that loads is
 * written back the way the next apply writes it, and that text must load
 * again into the same state: a state wsr accepts and then cannot read back
 * would stop every later run. The same bytes are also the holder record
 * of a lock someone else holds (the lock file is anyone's to write), which
 * the lock's refusal message quotes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "lib/err.h"
#include "state/state.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_util.h"

/* Aborts (a finding) unless the state written back reads back the same. */
static void round_trip(const wsr_state *s)
{
	size_t len = 0, len2 = 0;
	char *text = wsr_state_to_json(s, &len);
	if (!text)
		return; /* out of memory */
	wsr_state *again = NULL;
	wsr_diag diag;
	wsr_diag_init(&diag);
	if (wsr_state_from_json(&again, text, len, "again.json", &diag) != 0) {
		fprintf(stderr, "a state that loaded does not load once written:\n");
		wsr_diag_print(&diag, stderr, 0);
		abort();
	}
	char *text2 = wsr_state_to_json(again, &len2);
	if (text2 && (len != len2 || memcmp(text, text2, len) != 0)) {
		fprintf(stderr, "a state written twice differs:\n%s\n%s\n", text, text2);
		abort();
	}
	free(text2);
	wsr_state_free(again);
	wsr_diag_free(&diag);
	free(text);
}

/* What `wsr state list` and `wsr state show` walk. */
static void walk(const wsr_state *s)
{
	wsr_state_entry **v = wsr_state_sorted(s);
	for (size_t i = 0; v && i < s->n; i++) {
		cJSON *j = wsr_state_entry_to_json(v[i]);
		char *p = cJSON_Print(j);
		free(p);
		cJSON_Delete(j);
		if (wsr_state_find(s, v[i]->address) != v[i])
			abort(); /* the index lost an entry */
	}
	free(v);
	wsr_state_free(wsr_state_dup(s));
}

/* The lock, held by "someone else" (this process through a second open
 * file description) with data as its holder record. */
static void locked_by_other(wsr_state_backend *b, const char *lock_path, wsr_diag *diag)
{
	int fd = open(lock_path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		perror("fuzz: flock");
		abort();
	}
	if (b->ops->lock(b, "wsr fuzz", diag) != WSR_ELOCKED)
		abort(); /* a held lock was taken again */
	close(fd);
}

static int fuzz_state(const uint8_t *data, size_t size)
{
	char lock_path[PATH_MAX + 64];
	snprintf(lock_path, sizeof(lock_path), "%s", fuzz_file("state.json.lock", data, size));
	const char *path = fuzz_file("state.json", data, size);
	wsr_state_backend *b = NULL;
	wsr_state *s = NULL;
	wsr_diag diag;
	wsr_diag_init(&diag);
	if (wsr_state_file_open(&b, path) == 0) {
		if (b->ops->read(b, &s, &diag) == 0) {
			round_trip(s);
			walk(s);
		}
		locked_by_other(b, lock_path, &diag);
		b->ops->free(b);
	}
	fuzz_render_diag(&diag);
	wsr_state_free(s);
	wsr_diag_free(&diag);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_state)
