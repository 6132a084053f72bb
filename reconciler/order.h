/* order: which plan items must wait for which. Some platforms nest
 * resources (a kcp workspace lives inside its parent workspace): a parent
 * must exist, and be ready, before a child is created in it, and every child
 * the plan deletes is deleted before its parent (kcp would otherwise
 * destroy it with the parent, unplanned). The provider says what contains
 * what (its `parent` op); this module turns that into edges between plan
 * items and refuses, at plan time, what no order can carry out: a child
 * whose parent does not exist and is not planned, and a parent and a child
 * both replaced in one apply. What a deletion would destroy besides is the
 * cascade rule's (wsr_plan_check), on a fresh listing. */
#ifndef WSR_RECONCILER_ORDER_H
#define WSR_RECONCILER_ORDER_H
#include "lib/diag.h"
#include "providers/resource.h"
#include "reconciler/plan.h"

/* Fills each item's `after` from the items' actions and what the platform
 * has (observed). Refusals go to diag under the item's address. Returns 0
 * or WSR_ENOMEM. */
int wsr_order_build(wsr_plan *p, const wsr_resource_set *observed, wsr_diag *diag);
#endif
