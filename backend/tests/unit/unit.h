/* unit.h - what every Check suite shares. */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Run the suite, print the report, and turn the result into an exit status. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * A fake environment for the configuration suites: point unit_fake_env at NULL-terminated
 * name/value pairs and pass unit_env_lookup as the lookup function.
 */
static const char *const *unit_fake_env;

static inline const char *unit_env_lookup(const char *name)
{
	for (const char *const *p = unit_fake_env; p && p[0]; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

#endif
