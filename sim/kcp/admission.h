/* admission: what kcp checks in a Workspace body before admission: its
 * shape (422 Invalid, with every cause) and unknown fields; and how type
 * references are printed and compared. The type rules themselves are
 * typerules.h. Pure functions over JSON, shared by the handlers and the
 * seed check. */
#ifndef WSR_SIM_KCP_ADMISSION_H
#define WSR_SIM_KCP_ADMISSION_H
#include <stddef.h>

#include <cJSON.h>

#include "sim/kcp/names.h"
#include "sim/kcp/status.h"

#define WSR_KCPSIM_API_VERSION "tenancy.kcp.io/v1alpha1"
/* Most bytes of keys and values in one object's annotations, as Kubernetes. */
#define WSR_KCPSIM_ANNOTATIONS_MAX (256 * 1024)
/* Room for "<path>:<name>" of a type. */
#define WSR_KCPSIM_REF_MAX (WSR_KCPSIM_PATH_MAX + WSR_KCPSIM_NAME_MAX + 2)
/* Room for a refusal's message. */
#define WSR_KCPSIM_WHY_MAX 4096

/* The client's parts of a Workspace body, checked. */
typedef struct wsr_kcpsim_body {
	const char *name;	     /* metadata.name, or NULL when absent */
	const char *rv;		     /* metadata.resourceVersion, or NULL */
	cJSON *labels, *annotations; /* objects, {} when absent */
	cJSON *type;		     /* {name[, path]} as given, or NULL when absent */
	cJSON *location;	     /* spec.location as given, or NULL */
} wsr_kcpsim_body;

/* Checks a Workspace body (an object) and fills b; every problem is added
 * to inv (kind, apiVersion, metadata.name, metadata.generateName, labels,
 * annotations, spec.type, spec.location). A missing name is a problem only
 * when need_name. 0, or WSR_ENOMEM. */
int wsr_kcpsim_body_check(wsr_kcpsim_body *b, const cJSON *in, int need_name,
			  wsr_kcpsim_invalid *inv);
void wsr_kcpsim_body_free(wsr_kcpsim_body *b);

/* The first field of a Workspace body the API does not know, as a dotted
 * path ("spec.tpye") in out (WSR_KCPSIM_WHY_MAX bytes): 1 when there is
 * one, else 0. What ?fieldValidation=Strict (kubectl's default) refuses. */
int wsr_kcpsim_unknown_field(const cJSON *in, char *out);

/* Checks a label map (field names it in causes). */
void wsr_kcpsim_labels_check(const cJSON *labels, const char *field, wsr_kcpsim_invalid *inv);

/* Writes "<path>:<name>" of a type or a reference {name, path} into out
 * (WSR_KCPSIM_REF_MAX bytes). */
void wsr_kcpsim_ref(char *out, const cJSON *type);
/* 1 when the two references (or types) name the same type. */
int wsr_kcpsim_ref_eq(const cJSON *a, const cJSON *b);

#endif
