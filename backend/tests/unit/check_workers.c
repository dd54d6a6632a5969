/* The worker threads: every job runs once, in order on one thread, and stopping drains the queue. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

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
	struct workers *ws = workers_start(1);
	ck_assert_ptr_nonnull(ws);
	for (int i = 0; i < JOBS; i++) {
		jobs[i] = (struct job){{run_job, NULL}, i, ran, &next, &out_of_order};
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
	struct workers *ws = workers_start(3);
	ck_assert_ptr_nonnull(ws);
	for (int i = 0; i < 3; i++) {
		g[i] = (struct gate){.work = {wait_at_gate, NULL}};
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

int main(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_each_job_runs_once_in_order_and_stop_drains);
	tcase_add_test(tc, test_jobs_run_concurrently_on_every_thread);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
