/* The gateway's answer cache: the rendered JSON of by-tag reads (details,
 * flavour, history, pending migration, tag of a transaction), kept until
 * the follower commits anything to the SQLite cache. A hit costs a hash,
 * a lock and a copy instead of a snapshot read, JSON building, EIP-55
 * formatting and serialising. */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

/* Direct-mapped: a new answer replaces whatever shared its slot. */
#define CACHE_SLOTS 4096
#define CACHE_STRIPES 64
/* Larger answers (a VC with thousands of events) are not kept. */
#define CACHE_MAX_TEXT (64 * 1024)

typedef struct cache_entry {
    int kind; /* 0: empty */
    uint8_t key[32];
    uint64_t gen;
    int status;
    char *text;
    size_t len;
} cache_entry;

/* Readers of one stripe share it: a hot answer is read by every request
 * thread at once, and a reader descheduled while holding a mutex would
 * queue all the others behind it. */
struct api_cache {
    pthread_rwlock_t mu[CACHE_STRIPES];
    cache_entry e[CACHE_SLOTS];
};

int ct_api__cache_new(api_cache **out)
{
    api_cache *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return ct_error_set(CT_ENOMEM, "api: out of memory");
    for (int i = 0; i < CACHE_STRIPES; i++)
        pthread_rwlock_init(&c->mu[i], NULL);
    *out = c;
    return 0;
}

void ct_api__cache_free(api_cache *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        free(c->e[i].text);
    for (int i = 0; i < CACHE_STRIPES; i++)
        pthread_rwlock_destroy(&c->mu[i]);
    free(c);
}

/* Tags and hashes are uniformly random: their first bytes place them. */
static size_t slot_of(int kind, const uint8_t key[32])
{
    uint32_t h;

    memcpy(&h, key, sizeof(h));
    return (h ^ (uint32_t)kind * 0x9e3779b9u) % CACHE_SLOTS;
}

uint64_t ct_api__cache_gen(ct_api *api)
{
    return ct_store_change_count(api->store);
}

bool ct_api__cache_get(ct_api *api, int kind, const uint8_t key[32], api_resp *resp)
{
    api_cache *c = api->cache;
    size_t i = slot_of(kind, key);
    pthread_rwlock_t *mu = &c->mu[i % CACHE_STRIPES];
    cache_entry *e = &c->e[i];
    uint64_t gen = ct_api__cache_gen(api);
    char *text = NULL;

    pthread_rwlock_rdlock(mu);
    if (e->kind == kind && e->gen == gen && memcmp(e->key, key, 32) == 0 &&
        (text = malloc(e->len + 1)) != NULL) {
        memcpy(text, e->text, e->len + 1);
        resp->status = e->status;
    }
    pthread_rwlock_unlock(mu);
    if (text == NULL)
        return false;
    resp->text = text;
    resp->content_type = "application/json";
    return true;
}

void ct_api__cache_put(ct_api *api, int kind, const uint8_t key[32], uint64_t gen, api_resp *resp)
{
    api_cache *c = api->cache;
    size_t i = slot_of(kind, key), len;
    cache_entry *e = &c->e[i];
    char *text, *copy;

    if (resp->json == NULL || (resp->status != 200 && resp->status != 404))
        return;
    text = ct_json_dumps(resp->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return;
    /* The answer goes out as this text from now on, cached or not. */
    json_decref(resp->json);
    resp->json = NULL;
    resp->text = text;
    resp->content_type = "application/json";
    len = strlen(text);
    if (len > CACHE_MAX_TEXT || (copy = malloc(len + 1)) == NULL)
        return;
    memcpy(copy, text, len + 1);
    pthread_rwlock_wrlock(&c->mu[i % CACHE_STRIPES]);
    free(e->text);
    *e = (cache_entry){.kind = kind, .gen = gen, .status = resp->status, .text = copy, .len = len};
    memcpy(e->key, key, 32);
    pthread_rwlock_unlock(&c->mu[i % CACHE_STRIPES]);
}
