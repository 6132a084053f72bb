/* fuzz_kubeconfig: one fuzzed kubeconfig through wsr_kcp_kubeconfig_load,
 * as the kcp provider reads it for `endpoint: kubeconfig` (lib/yaml.c,
 * the context, cluster and user lookups, base64 and PEM decoding, the
 * refusals of what wsr cannot honour). Files it names are looked up
 * beside it, as kubectl does: "token" and "ca.crt" exist there (the seed
 * tests/fixtures/kubeconfig/files.kubeconfig names them). A token that loads must not appear in any
 * message: the kubeconfig's secrets never reach the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/kcp/kubeconfig.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/unit/kubeconfig_pem.h"

/* Shorter tokens may occur in a message by chance ("a", "ab"). */
#define SECRET_CHECK_MIN 8

static int fuzz_kubeconfig(const uint8_t *data, size_t size)
{
	fuzz_file("token", (const uint8_t *)"f1le-T0KEN-value\n", 17);
	fuzz_file("ca.crt", (const uint8_t *)CERT_A, strlen(CERT_A));
	const char *path = fuzz_file("kubeconfig", data, size);
	wsr_kcp_creds creds;
	wsr_diag diag;
	wsr_diag_init(&diag);
	int rc = wsr_kcp_kubeconfig_load(&creds, path, NULL, &diag);
	char *text = fuzz_diag_text(&diag);
	if (rc == 0 && creds.token && strlen(creds.token) >= SECRET_CHECK_MIN && text &&
	    strstr(text, creds.token)) {
		fprintf(stderr, "kubeconfig: the token reached a message: %s\n", text);
		abort();
	}
	free(text);
	wsr_kcp_creds_free(&creds);
	wsr_diag_free(&diag);
	return 0;
}
WSR_FUZZ_TARGET(fuzz_kubeconfig)
