/* The work queue: every job runs once, FIFO on one thread, a full queue
 * and a draining one refuse new jobs, free waits for what was queued. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_int ran;

static void count(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
}

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open, entered;
};

static void wait_gate(void *arg)
{
    struct gate *g = arg;

    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void many_jobs(void **state)
{
    ct_workq *q;
    (void)state;

    atomic_store(&ran, 0);
    ctt_ok(ct_workq_new(&q, 4, 10000));
    for (int i = 0; i < 1000; i++)
        ctt_ok(ct_workq_push(q, count, NULL));
    ct_workq_drain(q);
    assert_int_equal(atomic_load(&ran), 1000);
    /* Draining refuses new work. */
    assert_int_equal(ct_workq_push(q, count, NULL), CT_ELIMIT);
    ct_workq_free(q);
    ct_workq_free(NULL);
}

struct seq {
    pthread_mutex_t mu;
    int next, bad;
};
struct seq_job {
    struct seq *s;
    int k;
};

static void in_order(void *arg)
{
    struct seq_job *j = arg;

    pthread_mutex_lock(&j->s->mu);
    if (j->k != j->s->next++)
        j->s->bad++;
    pthread_mutex_unlock(&j->s->mu);
}

static void fifo_and_bounded(void **state)
{
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
    struct seq s = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    struct seq_job jobs[3];
    ct_workq *q;
    (void)state;

    ctt_ok(ct_workq_new(&q, 1, 3));
    /* The only thread is held in the first job... */
    ctt_ok(ct_workq_push(q, wait_gate, &g));
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    /* ...so three more wait in the queue, and a fourth is refused. */
    for (int i = 0; i < 3; i++) {
        jobs[i] = (struct seq_job){&s, i};
        ctt_ok(ct_workq_push(q, in_order, &jobs[i]));
    }
    assert_int_equal(ct_workq_push(q, count, NULL), CT_ELIMIT);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    ct_workq_free(q); /* waits for the three */
    assert_int_equal(s.next, 3);
    assert_int_equal(s.bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_jobs),
        cmocka_unit_test(fifo_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
