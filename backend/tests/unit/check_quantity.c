/* Kubernetes quantities as CPU millicores: the forms the API and metrics-server write. */
#include <check.h>

#include "quantity.h"
#include "unit.h"

static long long milli(const char *s)
{
	long long v = -42;
	ck_assert_msg(quantity_millicores(s, &v) == 0, "refused: %s", s);
	return v;
}

static void refused(const char *s)
{
	long long v = -42;
	ck_assert_msg(quantity_millicores(s, &v) == -1, "accepted: %s", s);
	ck_assert_int_eq(v, -42);
}

START_TEST(test_common_forms)
{
	ck_assert_int_eq(milli("250m"), 250);
	ck_assert_int_eq(milli("1"), 1000);
	ck_assert_int_eq(milli("2"), 2000);
	ck_assert_int_eq(milli("0"), 0);
	ck_assert_int_eq(milli("0.5"), 500);
	ck_assert_int_eq(milli("0.1"), 100); /* exact: no floating point */
	ck_assert_int_eq(milli("1.5"), 1500);
	ck_assert_int_eq(milli("100m"), 100);
	ck_assert_int_eq(milli("+1"), 1000);
	ck_assert_int_eq(milli(".5"), 500);
	ck_assert_int_eq(milli("5."), 5000);
	ck_assert_int_eq(milli("007"), 7000);
}
END_TEST

/* metrics-server reports usage in nanocores; MilliValue rounds a fraction up. */
START_TEST(test_nano_and_micro_round_up)
{
	ck_assert_int_eq(milli("1500000n"), 2);
	ck_assert_int_eq(milli("480000000n"), 480);
	ck_assert_int_eq(milli("479995679n"), 480);
	ck_assert_int_eq(milli("1n"), 1);
	ck_assert_int_eq(milli("0n"), 0);
	ck_assert_int_eq(milli("250000u"), 250);
	ck_assert_int_eq(milli("1u"), 1);
	ck_assert_int_eq(milli("2500000000n"), 2500);
	ck_assert_int_eq(milli("0.5m"), 1);
}
END_TEST

START_TEST(test_large_suffixes_and_exponents)
{
	ck_assert_int_eq(milli("1k"), 1000000);
	ck_assert_int_eq(milli("2M"), 2000000000LL);
	ck_assert_int_eq(milli("1Ki"), 1024000);
	ck_assert_int_eq(milli("1e3"), 1000000);
	ck_assert_int_eq(milli("1E-3"), 1);
	ck_assert_int_eq(milli("25e-2"), 250);
	ck_assert_int_eq(milli("1e+2"), 100000);
	ck_assert_int_eq(milli("1e-30"), 1);
}
END_TEST

START_TEST(test_refused)
{
	const char *bad[] = {"",
	                     "m",
	                     "-1",
	                     "-250m",
	                     " 1",
	                     "1 ",
	                     "1mm",
	                     "1.2.3",
	                     "1x",
	                     "1Ki2",
	                     "1e",
	                     "1e+",
	                     "1e1000",
	                     "+",
	                     ".",
	                     "1,5",
	                     "0x10",
	                     "1km",
	                     "9999999999999999999",
	                     "1E",
	                     "1P",
	                     "1Ei",
	                     "nan",
	                     "inf"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
	refused(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("quantity");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_common_forms);
	tcase_add_test(tc, test_nano_and_micro_round_up);
	tcase_add_test(tc, test_large_suffixes_and_exponents);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
