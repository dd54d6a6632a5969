/*
 * The worker threads: every job runs once, in order on one thread, and stopping drains the
 * queue; with a bound, a job that waited too long is expired at its deadline by the reaper.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "unit.h"
#include "workers.h"

#define JOBS 1000

struct job {
	struct work work;
	int index;
	atomic_int *ran;  /* how many times this job ran */
	atomic_int *next; /* the next index a single worker expects */
	atomic_int *out_of_order;
};

static void run_job(struct work *w)
{
	struct job *j = (struct job *)w; /* work is the first member */
	atomic_fetch_add(&j->ran[j->index], 1);
	if (atomic_fetch_add(j->next, 1) != j->index)
		atomic_fetch_add(j->out_of_order, 1);
}

static void nap_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

START_TEST(test_each_job_runs_once_in_order_and_stop_drains)
{
	static struct job jobs[JOBS];
	static atomic_int ran[JOBS];
	atomic_int next = 0, out_of_order = 0;
	struct workers *ws = workers_start(1, WORKERS_NO_BOUND);
	ck_assert_ptr_nonnull(ws);
	for (int i = 0; i < JOBS; i++) {
		jobs[i] = (struct job){{.run = run_job}, i, ran, &next, &out_of_order};
		ck_assert_int_eq(workers_submit(ws, &jobs[i].work), 0);
	}
	workers_stop(ws); /* returns once every queued job has run */
	for (int i = 0; i < JOBS; i++)
		ck_assert_int_eq(atomic_load(&ran[i]), 1);
	ck_assert_int_eq(atomic_load(&out_of_order), 0); /* one thread: first in, first out */
}
END_TEST

struct gate {
	struct work work;
	pthread_mutex_t lock;
	pthread_cond_t open;
	int opened;
	atomic_int running;
};

static void wait_at_gate(struct work *w)
{
	struct gate *g = (struct gate *)w;
	atomic_fetch_add(&g->running, 1);
	pthread_mutex_lock(&g->lock);
	while (!g->opened)
		pthread_cond_wait(&g->open, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

START_TEST(test_jobs_run_concurrently_on_every_thread)
{
	struct gate g[3];
	struct workers *ws = workers_start(3, WORKERS_NO_BOUND);
	ck_assert_ptr_nonnull(ws);
	for (int i = 0; i < 3; i++) {
		g[i] = (struct gate){.work = {.run = wait_at_gate}};
		pthread_mutex_init(&g[i].lock, NULL);
		pthread_cond_init(&g[i].open, NULL);
		ck_assert_int_eq(workers_submit(ws, &g[i].work), 0);
	}
	/* Three blocked jobs on three threads: all of them must be running at once. */
	int running = 0;
	for (int t = 0; t < 200 && running < 3; t++) {
		running = 0;
		for (int i = 0; i < 3; i++)
			running += atomic_load(&g[i].running);
		if (running < 3)
			nap_ms(10);
	}
	ck_assert_msg(running == 3, "three jobs should run on three threads at the same time");
	for (int i = 0; i < 3; i++) {
		pthread_mutex_lock(&g[i].lock);
		g[i].opened = 1;
		pthread_cond_signal(&g[i].open);
		pthread_mutex_unlock(&g[i].lock);
	}
	workers_stop(ws);
}
END_TEST

/* A job that records how it ended (run or expired) and when, on which thread. */
struct timed {
	struct work work;
	struct timespec submitted;
	atomic_int ran, expired;
	atomic_int ms; /* from submit to the end of the wait */
	pthread_t by;
};

static void timed_end(struct work *w, int expired)
{
	struct timed *t = (struct timed *)w;
	t->by = pthread_self();
	atomic_store(&t->ms, (int)clock_ms_since(&t->submitted));
	atomic_fetch_add(expired ? &t->expired : &t->ran, 1);
}

static void timed_run(struct work *w)
{
	timed_end(w, 0);
}

static void timed_expire(struct work *w)
{
	timed_end(w, 1);
}

static void submit_timed(struct workers *ws, struct timed *t)
{
	*t = (struct timed){.work = {.run = timed_run, .expire = timed_expire}};
	t->submitted = clock_now();
	ck_assert_int_eq(workers_submit(ws, &t->work), 0);
}

static int ended(struct timed *t)
{
	return atomic_load(&t->ran) + atomic_load(&t->expired);
}

static void wait_ended(struct timed *t)
{
	for (int i = 0; i < 1000 && !ended(t); i++)
		nap_ms(10);
	ck_assert_msg(ended(t), "the job neither ran nor expired within 10 s");
}

static void open_gate(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->opened = 1;
	pthread_cond_signal(&g->open);
	pthread_mutex_unlock(&g->lock);
}

static struct gate *gate_new(void)
{
	struct gate *g = calloc(1, sizeof(*g));
	ck_assert_ptr_nonnull(g);
	g->work.run = wait_at_gate;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->open, NULL);
	return g;
}

static void gate_free(struct gate *g)
{
	pthread_cond_destroy(&g->open);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

START_TEST(test_a_job_waiting_too_long_is_expired_at_its_deadline_by_the_reaper)
{
	struct timed waiting[3];
	struct gate *busy = gate_new();
	struct workers *ws = workers_start(1, 300);
	ck_assert_ptr_nonnull(ws);
	ck_assert_int_eq(workers_submit(ws, &busy->work), 0); /* holds the only thread */
	for (int i = 0; i < 3; i++)
		submit_timed(ws, &waiting[i]);
	for (int i = 0; i < 3; i++) {
		wait_ended(&waiting[i]);
		ck_assert_int_eq(atomic_load(&waiting[i].expired), 1);
		ck_assert_int_eq(atomic_load(&waiting[i].ran), 0);
		/* At the bound, not when the busy job ends (not before the gate opens). */
		ck_assert_int_ge(atomic_load(&waiting[i].ms), 290);
		ck_assert_msg(atomic_load(&waiting[i].ms) < 5000, "expired after %d ms",
		              atomic_load(&waiting[i].ms));
	}
	ck_assert_int_eq(atomic_load(&busy->running), 1);
	open_gate(busy);
	workers_stop(ws);
	gate_free(busy);
}
END_TEST

START_TEST(test_a_job_that_gets_a_thread_within_the_bound_runs)
{
	struct timed next;
	struct gate *busy = gate_new();
	struct workers *ws = workers_start(1, 5000);
	ck_assert_ptr_nonnull(ws);
	ck_assert_int_eq(workers_submit(ws, &busy->work), 0);
	submit_timed(ws, &next);
	nap_ms(100);
	ck_assert_int_eq(ended(&next), 0); /* still waiting */
	open_gate(busy);
	wait_ended(&next);
	ck_assert_int_eq(atomic_load(&next.ran), 1);
	ck_assert_int_eq(atomic_load(&next.expired), 0);
	workers_stop(ws);
	gate_free(busy);
}
END_TEST

START_TEST(test_bound_zero_refuses_only_when_every_thread_is_busy)
{
	struct timed t;
	struct workers *ws = workers_start(2, 0);
	ck_assert_ptr_nonnull(ws);
	/* A free thread always takes the job, however late it wakes up. */
	for (int i = 0; i < 200; i++) {
		submit_timed(ws, &t);
		wait_ended(&t);
		ck_assert_int_eq(atomic_load(&t.ran), 1);
	}
	struct gate *a = gate_new(), *b = gate_new();
	ck_assert_int_eq(workers_submit(ws, &a->work), 0);
	ck_assert_int_eq(workers_submit(ws, &b->work), 0);
	for (int i = 0; i < 200 && atomic_load(&a->running) + atomic_load(&b->running) < 2; i++)
		nap_ms(10);
	submit_timed(ws, &t);
	wait_ended(&t);
	ck_assert_int_eq(atomic_load(&t.expired), 1);
	open_gate(a);
	open_gate(b);
	workers_stop(ws);
	gate_free(a);
	gate_free(b);
}
END_TEST

static void *open_later(void *arg)
{
	nap_ms(200);
	open_gate(arg);
	return NULL;
}

START_TEST(test_stop_expires_what_still_waits_and_lets_the_running_job_finish)
{
	struct timed waiting;
	pthread_t opener;
	struct gate *busy = gate_new();
	struct workers *ws = workers_start(1, 60000);
	ck_assert_ptr_nonnull(ws);
	ck_assert_int_eq(workers_submit(ws, &busy->work), 0);
	submit_timed(ws, &waiting);
	for (int i = 0; i < 200 && !atomic_load(&busy->running); i++)
		nap_ms(10);
	pthread_create(&opener, NULL, open_later, busy);
	workers_stop(ws); /* returns once the running job has finished */
	pthread_join(opener, NULL);
	ck_assert_int_eq(atomic_load(&waiting.expired), 1);
	ck_assert_int_eq(atomic_load(&waiting.ran), 0);
	ck_assert_int_eq(busy->opened, 1);
	gate_free(busy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_each_job_runs_once_in_order_and_stop_drains);
	tcase_add_test(tc, test_jobs_run_concurrently_on_every_thread);
	tcase_add_test(tc, test_a_job_waiting_too_long_is_expired_at_its_deadline_by_the_reaper);
	tcase_add_test(tc, test_a_job_that_gets_a_thread_within_the_bound_runs);
	tcase_add_test(tc, test_bound_zero_refuses_only_when_every_thread_is_busy);
	tcase_add_test(tc, test_stop_expires_what_still_waits_and_lets_the_running_job_finish);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
