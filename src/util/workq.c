/* A fixed pool of threads running queued jobs in FIFO order, for work that
 * may block (the gateway's writes and explorer calls, the agent's
 * requests) off the threads that serve connections. */
#include "catena/util.h"

#include <pthread.h>
#include <stdlib.h>

struct work {
    ct_work_fn fn;
    void *arg;
    struct work *next;
};

struct ct_workq {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t idle; /* busy fell to 0 */
    struct work *head, *tail;
    size_t queued, max_queued;
    size_t busy; /* queued or running */
    bool refusing, ending;
    pthread_t *threads;
    size_t n_threads;
};

static void *worker_main(void *arg)
{
    ct_workq *q = arg;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->head == NULL && !q->ending)
            pthread_cond_wait(&q->work, &q->mu);
        struct work *w = q->head;
        if (w == NULL)
            break;
        if ((q->head = w->next) == NULL)
            q->tail = NULL;
        q->queued--;
        pthread_mutex_unlock(&q->mu);
        w->fn(w->arg);
        free(w);
        pthread_mutex_lock(&q->mu);
        if (--q->busy == 0)
            pthread_cond_broadcast(&q->idle);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

int ct_workq_new(ct_workq **out, size_t threads, size_t max_queued)
{
    ct_workq *q = calloc(1, sizeof(*q));

    if (q == NULL || (q->threads = calloc(threads, sizeof(pthread_t))) == NULL) {
        free(q);
        return ct_error_set(CT_ENOMEM, "workq: out of memory");
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->idle, NULL);
    q->max_queued = max_queued;
    for (; q->n_threads < threads; q->n_threads++)
        if (pthread_create(&q->threads[q->n_threads], NULL, worker_main, q) != 0) {
            ct_workq_free(q);
            return ct_error_set(CT_EIO, "workq: cannot start a thread");
        }
    *out = q;
    return 0;
}

int ct_workq_push(ct_workq *q, ct_work_fn fn, void *arg)
{
    struct work *w = malloc(sizeof(*w));

    if (w == NULL)
        return ct_error_set(CT_ENOMEM, "workq: out of memory");
    *w = (struct work){.fn = fn, .arg = arg};
    pthread_mutex_lock(&q->mu);
    if (q->refusing || q->queued >= q->max_queued) {
        pthread_mutex_unlock(&q->mu);
        free(w);
        return ct_error_set(CT_ELIMIT, "workq: %s", q->refusing ? "stopping" : "queue full");
    }
    if (q->tail != NULL)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    q->queued++;
    q->busy++;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

size_t ct_workq_busy(ct_workq *q)
{
    size_t n;

    pthread_mutex_lock(&q->mu);
    n = q->busy;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void ct_workq_drain(ct_workq *q)
{
    pthread_mutex_lock(&q->mu);
    q->refusing = true;
    while (q->busy > 0)
        pthread_cond_wait(&q->idle, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void ct_workq_free(ct_workq *q)
{
    if (q == NULL)
        return;
    ct_workq_drain(q);
    pthread_mutex_lock(&q->mu);
    q->ending = true;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; i < q->n_threads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->idle);
    pthread_mutex_destroy(&q->mu);
    free(q->threads);
    free(q);
}
