/* The slot pool: reuse, replacement of everything older than a failure, bounded waits. */
#include <check.h>
#include <stdlib.h>

#include "clock.h"
#include "pool.h"
#include "unit.h"

/* An item is an int that counts how many times it was closed. */
static void close_item(void *item)
{
	(*(int *)item)++;
}

START_TEST(test_items_are_reused)
{
	int a = 0;
	void *item = &a;
	struct pool *p = pool_create(2, close_item);
	ck_assert_ptr_nonnull(p);
	int slot = pool_acquire(p, 100, &item);
	ck_assert_int_ge(slot, 0);
	ck_assert_ptr_null(item); /* empty: the borrower opens one */
	pool_release(p, slot, &a);
	/* The slot with an item is lent before the empty one. */
	ck_assert_int_eq(pool_acquire(p, 100, &item), slot);
	ck_assert_ptr_eq(item, &a);
	pool_release(p, slot, &a);
	pool_free(p);
	ck_assert_int_eq(a, 1); /* closed once, by pool_free */
}
END_TEST

START_TEST(test_failure_replaces_older_items)
{
	int a = 0, b = 0, fresh = 0;
	void *item;
	struct pool *p = pool_create(2, close_item);
	int sa = pool_acquire(p, 100, &item);
	int sb = pool_acquire(p, 100, &item);
	pool_release(p, sa, &a);

	/* b breaks while lent: its borrower drops it and opens a fresh one. */
	pool_failed(p, sb);
	close_item(&b);
	pool_release(p, sb, &fresh);

	/* a was opened before the failure: closed when next lent, and the slot comes back empty. */
	ck_assert_int_eq(pool_acquire(p, 100, &item), sa);
	ck_assert_ptr_null(item);
	ck_assert_int_eq(a, 1);
	/* The connection opened after the failure is current. */
	ck_assert_int_eq(pool_acquire(p, 100, &item), sb);
	ck_assert_ptr_eq(item, &fresh);
	ck_assert_int_eq(fresh, 0);
	pool_release(p, sa, &a);
	pool_release(p, sb, &fresh);

	/* An item lent out while another slot fails is stale too once it comes back. */
	int c = 0;
	sa = pool_acquire(p, 100, &item);
	ck_assert_ptr_eq(item, &a);
	sb = pool_acquire(p, 100, &item);
	ck_assert_ptr_eq(item, &fresh);
	pool_failed(p, sb);
	close_item(&fresh);
	pool_release(p, sb, &c);
	pool_release(p, sa, &a);
	ck_assert_int_eq(pool_acquire(p, 100, &item), sa);
	ck_assert_ptr_null(item);
	ck_assert_int_eq(a, 2);
	pool_release(p, sa, NULL);
	pool_free(p);
	ck_assert_int_eq(c, 1);     /* current until the end: closed by pool_free */
	ck_assert_int_eq(fresh, 1); /* closed once, by its borrower */
}
END_TEST

START_TEST(test_wait_is_bounded)
{
	void *item;
	struct pool *p = pool_create(1, close_item);
	int slot = pool_acquire(p, 100, &item);
	struct timespec t0 = clock_now();
	ck_assert_int_eq(pool_acquire(p, 50, &item), -1);
	double ms = clock_ms_since(&t0);
	ck_assert(ms >= 40 && ms < 5000); /* generous: the machine is shared */
	pool_release(p, slot, NULL);
	ck_assert_int_eq(pool_acquire(p, 0, &item), slot);
	pool_release(p, slot, NULL);
	pool_free(p);
}
END_TEST

START_TEST(test_stats)
{
	int a = 0, b = 0, busy, idle;
	void *item;
	struct pool *p = pool_create(3, close_item);
	int s1 = pool_acquire(p, 100, &item);
	int s2 = pool_acquire(p, 100, &item);
	pool_release(p, s1, &a);
	pool_stats(p, &busy, &idle);
	ck_assert_int_eq(busy, 1);
	ck_assert_int_eq(idle, 1);
	pool_release(p, s2, &b);
	pool_stats(p, &busy, &idle);
	ck_assert_int_eq(busy, 0);
	ck_assert_int_eq(idle, 2);
	pool_free(p);
	ck_assert_int_eq(a + b, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_items_are_reused);
	tcase_add_test(tc, test_failure_replaces_older_items);
	tcase_add_test(tc, test_wait_is_bounded);
	tcase_add_test(tc, test_stats);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
