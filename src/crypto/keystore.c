/* Web3 Secret Storage v3 ("keystore") files as geth and ethers write them:
 * scrypt or PBKDF2-HMAC-SHA256, AES-128-CTR, keccak-256 MAC. Every kdf
 * parameter is bounded before any key derivation, so hostile files fail fast. */
#include "catena/crypto.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define KS_DKLEN 32
#define KS_IV_SIZE 16
#define KS_CIPHER_KEY_SIZE 16
#define KS_SALT_SIZE 32      /* what we write, as geth */
#define KS_MAX_SALT 1024     /* what we accept */
#define KS_MAX_JSON_DEPTH 16 /* keystores nest 4 deep; ethers adds one level */

/* Bounds on hostile parameters. n * r * p bounds both time and memory
 * (128 * n * r bytes): 2^23 is 4 times geth's standard cost, 1 GiB. */
#define KS_SCRYPT_MAX_N (UINT64_C(1) << 20)
#define KS_SCRYPT_MAX_RP 1024u
#define KS_SCRYPT_MAX_COST (UINT64_C(1) << 23)
#define KS_PBKDF2_MAX_C 10000000u

/* "UTC--" + "YYYY-MM-DDTHH-MM-SS.nnnnnnnnnZ" + "--" + 40 hex digits + NUL. */
#define KS_FILENAME_SIZE (5 + 30 + 2 + 2 * CT_ADDRESS_SIZE + 1)
/* 8-4-4-4-12 hex digits and NUL. */
#define KS_UUID_SIZE 37

const ct_keystore_params CT_KEYSTORE_STANDARD = {CT_KDF_SCRYPT, 262144, 8, 1, 262144};
const ct_keystore_params CT_KEYSTORE_LIGHT = {CT_KDF_SCRYPT, 4096, 8, 6, 262144};

/* A keystore file's content, as parsed or about to be written. */
struct ks_file {
    ct_keystore_params params;
    uint8_t salt[KS_MAX_SALT];
    size_t salt_len;
    uint8_t iv[KS_IV_SIZE];
    uint8_t ciphertext[CT_SECKEY_SIZE];
    uint8_t mac[CT_KECCAK256_SIZE];
    bool has_address;
    ct_address address;
};

/* ---------------------------------------------------------------- parameters */

static int check_scrypt(const ct_keystore_params *p)
{
    uint64_t n = p->scrypt_n, r = p->scrypt_r, pp = p->scrypt_p;

    if (n > KS_SCRYPT_MAX_N)
        return ct_error_set(CT_ELIMIT, "keystore: scrypt n %llu above 2^20", (unsigned long long)n);
    if (n < 2 || (n & (n - 1)) != 0)
        return ct_error_set(CT_EPARSE, "keystore: scrypt n %llu is not a power of two above 1",
                            (unsigned long long)n);
    if (r == 0 || pp == 0)
        return ct_error_set(CT_EPARSE, "keystore: scrypt r and p must be positive");
    if (r > KS_SCRYPT_MAX_RP || pp > KS_SCRYPT_MAX_RP || r * pp > KS_SCRYPT_MAX_RP)
        return ct_error_set(CT_ELIMIT, "keystore: scrypt r*p above %u", KS_SCRYPT_MAX_RP);
    if (n * r * pp > KS_SCRYPT_MAX_COST)
        return ct_error_set(CT_ELIMIT, "keystore: scrypt cost n*r*p above 2^23");
    return 0;
}

/* Returns: 0, CT_EPARSE (invalid) or CT_ELIMIT (over the bounds). */
static int check_params(const ct_keystore_params *p)
{
    if (p->kdf == CT_KDF_SCRYPT)
        return check_scrypt(p);
    if (p->kdf != CT_KDF_PBKDF2)
        return ct_error_set(CT_EPARSE, "keystore: unknown kdf %d", (int)p->kdf);
    if (p->pbkdf2_c == 0)
        return ct_error_set(CT_EPARSE, "keystore: pbkdf2 c must be positive");
    if (p->pbkdf2_c > KS_PBKDF2_MAX_C)
        return ct_error_set(CT_ELIMIT, "keystore: pbkdf2 c %u above %u", p->pbkdf2_c,
                            KS_PBKDF2_MAX_C);
    return 0;
}

/* ---------------------------------------------------------------- scrypt fallback */

/* OpenSSL (like RFC 7914) refuses n >= 2^(16 r), but geth does not, and
 * Web3 Secret Storage's own scrypt test vector has r = 1, n = 2^18. For
 * those parameters only, ROMix runs here (RFC 7914 section 5), around
 * OpenSSL's PBKDF2. */
static bool openssl_refuses(uint64_t n, uint64_t r)
{
    return 16 * r < 64 && n >= (UINT64_C(1) << (16 * r));
}

#define ROTL32(v, c) (((v) << (c)) | ((v) >> (32 - (c))))
#define SALSA_QR(a, b, c, d)                                                                       \
    do {                                                                                           \
        x[b] ^= ROTL32(x[a] + x[d], 7);                                                            \
        x[c] ^= ROTL32(x[b] + x[a], 9);                                                            \
        x[d] ^= ROTL32(x[c] + x[b], 13);                                                           \
        x[a] ^= ROTL32(x[d] + x[c], 18);                                                           \
    } while (0)

static void salsa20_8(uint32_t b[16])
{
    uint32_t x[16];

    memcpy(x, b, sizeof(x));
    for (int i = 0; i < 8; i += 2) {
        SALSA_QR(0, 4, 8, 12);
        SALSA_QR(5, 9, 13, 1);
        SALSA_QR(10, 14, 2, 6);
        SALSA_QR(15, 3, 7, 11);
        SALSA_QR(0, 1, 2, 3);
        SALSA_QR(5, 6, 7, 4);
        SALSA_QR(10, 11, 8, 9);
        SALSA_QR(15, 12, 13, 14);
    }
    for (int i = 0; i < 16; i++)
        b[i] += x[i];
}

/* scryptBlockMix: out (32 r words) from in, even blocks first. */
static void block_mix(uint32_t *out, const uint32_t *in, size_t r)
{
    uint32_t x[16];

    memcpy(x, &in[(2 * r - 1) * 16], sizeof(x));
    for (size_t i = 0; i < 2 * r; i++) {
        for (size_t k = 0; k < 16; k++)
            x[k] ^= in[i * 16 + k];
        salsa20_8(x);
        memcpy(&out[(i / 2 + (i & 1) * r) * 16], x, sizeof(x));
    }
}

/* scryptROMix on the 128 r bytes at b, in place. v holds n * 32 r words,
 * x and y 32 r words each. */
static void ro_mix(uint8_t *b, uint64_t n, size_t r, uint32_t *v, uint32_t *x, uint32_t *y)
{
    size_t words = 32 * r;

    for (size_t k = 0; k < words; k++)
        x[k] = (uint32_t)b[4 * k] | (uint32_t)b[4 * k + 1] << 8 | (uint32_t)b[4 * k + 2] << 16 |
               (uint32_t)b[4 * k + 3] << 24;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(&v[i * words], x, words * sizeof(*x));
        block_mix(y, x, r);
        memcpy(x, y, words * sizeof(*x));
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t j = x[(2 * r - 1) * 16] & (n - 1); /* n <= 2^20: the low word suffices */
        for (size_t k = 0; k < words; k++)
            x[k] ^= v[j * words + k];
        block_mix(y, x, r);
        memcpy(x, y, words * sizeof(*x));
    }
    for (size_t k = 0; k < words; k++)
        for (size_t s = 0; s < 4; s++)
            b[4 * k + s] = (uint8_t)(x[k] >> (8 * s));
}

static int scrypt_fallback(uint8_t dk[KS_DKLEN], const struct ks_file *ks, const char *pw,
                           int pw_len)
{
    size_t r = ks->params.scrypt_r, p = ks->params.scrypt_p, n = ks->params.scrypt_n;
    size_t blen = 128 * r * p, vlen = 128 * r * n, xylen = 256 * r;
    uint8_t *b = malloc(blen);
    uint32_t *v = malloc(vlen), *xy = malloc(xylen);
    int rc = CT_ECRYPTO;

    if (b == NULL || v == NULL || xy == NULL) {
        rc = ct_error_set(CT_ENOMEM, "keystore: no memory for scrypt (%zu bytes)", vlen);
        goto done;
    }
    if (!PKCS5_PBKDF2_HMAC(pw, pw_len, ks->salt, (int)ks->salt_len, 1, EVP_sha256(), (int)blen, b))
        goto done;
    for (size_t i = 0; i < p; i++)
        ro_mix(b + i * 128 * r, n, r, v, xy, xy + 32 * r);
    if (!PKCS5_PBKDF2_HMAC(pw, pw_len, b, (int)blen, 1, EVP_sha256(), KS_DKLEN, dk))
        goto done;
    rc = 0;
done:
    if (rc == CT_ECRYPTO)
        ct_error_set(rc, "keystore: scrypt failed");
    if (b != NULL)
        ct_wipe(b, blen);
    if (v != NULL)
        ct_wipe(v, vlen);
    if (xy != NULL)
        ct_wipe(xy, xylen);
    free(b);
    free(v);
    free(xy);
    return rc;
}

/* ---------------------------------------------------------------- crypto */

/* Derives the 32-byte key from the password. Parameters were checked. */
static int derive_key(uint8_t dk[KS_DKLEN], const struct ks_file *ks, const char *pw, size_t pw_len)
{
    const ct_keystore_params *p = &ks->params;
    uint64_t n = p->scrypt_n, r = p->scrypt_r;
    int ok;

    if (pw_len > INT_MAX)
        return ct_error_set(CT_ELIMIT, "keystore: password of %zu bytes is too long", pw_len);
    if (pw == NULL)
        pw = "";
    if (p->kdf == CT_KDF_PBKDF2) {
        ok = PKCS5_PBKDF2_HMAC(pw, (int)pw_len, ks->salt, (int)ks->salt_len, (int)p->pbkdf2_c,
                               EVP_sha256(), KS_DKLEN, dk);
    } else if (openssl_refuses(n, r)) {
        return scrypt_fallback(dk, ks, pw, (int)pw_len);
    } else {
        /* OpenSSL needs 128 r (n + 2) bytes for V and 128 r p for B. */
        uint64_t maxmem = 128 * r * (n + 2) + 128 * r * p->scrypt_p;
        ok = EVP_PBE_scrypt(pw, pw_len, ks->salt, ks->salt_len, n, r, p->scrypt_p, maxmem, dk,
                            KS_DKLEN);
    }
    if (!ok)
        return ct_error_set(CT_ECRYPTO, "keystore: key derivation failed");
    return 0;
}

/* AES-128-CTR with the first half of the derived key (its own inverse). */
static int aes_ctr(uint8_t *out, const uint8_t dk[KS_DKLEN], const uint8_t iv[KS_IV_SIZE],
                   const uint8_t *in, size_t len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0, rc = CT_ECRYPTO;

    if (ctx == NULL)
        return ct_error_set(CT_ENOMEM, "keystore: no memory for the cipher");
    if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, dk, iv) &&
        EVP_EncryptUpdate(ctx, out, &n1, in, (int)len) && EVP_EncryptFinal_ex(ctx, out + n1, &n2) &&
        (size_t)(n1 + n2) == len)
        rc = 0;
    EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
    if (rc < 0)
        return ct_error_set(rc, "keystore: aes-128-ctr failed");
    return 0;
}

/* mac = keccak256(dk[16..32] || ciphertext) */
static void compute_mac(uint8_t mac[CT_KECCAK256_SIZE], const uint8_t dk[KS_DKLEN],
                        const uint8_t ct[CT_SECKEY_SIZE])
{
    ct_keccak k;

    ct_keccak_init(&k);
    ct_keccak_update(&k, dk + KS_CIPHER_KEY_SIZE, KS_DKLEN - KS_CIPHER_KEY_SIZE);
    ct_keccak_update(&k, ct, CT_SECKEY_SIZE);
    ct_keccak_final(&k, mac);
}

/* ---------------------------------------------------------------- parsing */

static const char *type_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT: return "an object";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    default: return "a value";
    }
}

/* Looks up the last component of path in obj and checks its type. An
 * optional field may be absent or null.
 * Returns: 0, CT_ENOTFOUND (optional and absent) or CT_EPARSE naming path. */
static int ks_field(json_t **out, const json_t *obj, const char *path, json_type type,
                    bool optional)
{
    const char *key = strrchr(path, '.');
    json_t *v = json_object_get(obj, key != NULL ? key + 1 : path);

    if (v == NULL || (optional && json_is_null(v))) {
        if (optional)
            return CT_ENOTFOUND;
        return ct_error_set(CT_EPARSE, "keystore: field '%s' is missing", path);
    }
    if (json_typeof(v) != type)
        return ct_error_set(CT_EPARSE, "keystore: field '%s' must be %s", path, type_name(type));
    *out = v;
    return 0;
}

static int ks_uint(uint64_t *out, const json_t *obj, const char *path)
{
    json_t *v;
    int rc = ks_field(&v, obj, path, JSON_INTEGER, false);

    if (rc < 0)
        return rc;
    if (json_integer_value(v) < 0)
        return ct_error_set(CT_EPARSE, "keystore: field '%s' must not be negative", path);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Decodes a hex string field of min..max bytes ("0x" optional). */
static int ks_hex(uint8_t *out, size_t *out_len, size_t min, size_t max, const json_t *obj,
                  const char *path)
{
    json_t *v;
    const char *s;
    size_t len, digits;
    int rc = ks_field(&v, obj, path, JSON_STRING, false);

    if (rc < 0)
        return rc;
    s = json_string_value(v);
    len = strlen(s);
    digits = (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? len - 2 : len;
    if (digits / 2 > max && min != max)
        return ct_error_set(CT_ELIMIT, "keystore: field '%s' longer than %zu bytes", path, max);
    if (digits / 2 > max || digits / 2 < min)
        return ct_error_set(CT_EPARSE, "keystore: field '%s' must be %zu bytes, not %zu", path, min,
                            digits / 2);
    if ((rc = ct_hex_decode(out, max, out_len, s, len)) < 0)
        return ct_error_wrap("keystore: field '%s'", path);
    return 0;
}

static int ks_uint32(uint32_t *out, const json_t *obj, const char *path)
{
    uint64_t v;
    int rc = ks_uint(&v, obj, path);

    if (rc < 0)
        return rc;
    if (v > UINT32_MAX)
        return ct_error_set(CT_ELIMIT, "keystore: field '%s' too large", path);
    *out = (uint32_t)v;
    return 0;
}

static int parse_scrypt(ct_keystore_params *p, const json_t *kp)
{
    int rc;

    p->kdf = CT_KDF_SCRYPT;
    if ((rc = ks_uint(&p->scrypt_n, kp, "crypto.kdfparams.n")) < 0 ||
        (rc = ks_uint32(&p->scrypt_r, kp, "crypto.kdfparams.r")) < 0 ||
        (rc = ks_uint32(&p->scrypt_p, kp, "crypto.kdfparams.p")) < 0)
        return rc;
    return 0;
}

static int parse_pbkdf2(ct_keystore_params *p, const json_t *kp)
{
    json_t *prf;
    int rc;

    p->kdf = CT_KDF_PBKDF2;
    if ((rc = ks_field(&prf, kp, "crypto.kdfparams.prf", JSON_STRING, false)) < 0)
        return rc;
    if (strcmp(json_string_value(prf), "hmac-sha256") != 0)
        return ct_error_set(CT_EPARSE,
                            "keystore: field 'crypto.kdfparams.prf': '%.32s' "
                            "is not supported (only hmac-sha256)",
                            json_string_value(prf));
    return ks_uint32(&p->pbkdf2_c, kp, "crypto.kdfparams.c");
}

/* Reads kdf and kdfparams, and checks the bounds before anything costly. */
static int parse_kdf(struct ks_file *ks, const json_t *crypto)
{
    json_t *kdf, *kp;
    uint64_t dklen;
    const char *name;
    int rc;

    if ((rc = ks_field(&kdf, crypto, "crypto.kdf", JSON_STRING, false)) < 0 ||
        (rc = ks_field(&kp, crypto, "crypto.kdfparams", JSON_OBJECT, false)) < 0)
        return rc;
    name = json_string_value(kdf);
    if (strcmp(name, "scrypt") == 0)
        rc = parse_scrypt(&ks->params, kp);
    else if (strcmp(name, "pbkdf2") == 0)
        rc = parse_pbkdf2(&ks->params, kp);
    else
        rc =
            ct_error_set(CT_EPARSE, "keystore: field 'crypto.kdf': '%.32s' is not supported", name);
    if (rc < 0 || (rc = ks_uint(&dklen, kp, "crypto.kdfparams.dklen")) < 0)
        return rc;
    if (dklen < KS_DKLEN)
        return ct_error_set(CT_EPARSE, "keystore: field 'crypto.kdfparams.dklen' must be 32");
    if (dklen > KS_DKLEN)
        return ct_error_set(CT_ELIMIT, "keystore: field 'crypto.kdfparams.dklen' above 32");
    if ((rc = ks_hex(ks->salt, &ks->salt_len, 0, KS_MAX_SALT, kp, "crypto.kdfparams.salt")) < 0)
        return rc;
    return check_params(&ks->params);
}

static int parse_crypto(struct ks_file *ks, const json_t *crypto)
{
    json_t *cipher, *cp;
    size_t len;
    int rc;

    if ((rc = ks_field(&cipher, crypto, "crypto.cipher", JSON_STRING, false)) < 0)
        return rc;
    if (strcmp(json_string_value(cipher), "aes-128-ctr") != 0)
        return ct_error_set(CT_EPARSE,
                            "keystore: field 'crypto.cipher': '%.32s' is not "
                            "supported (only aes-128-ctr)",
                            json_string_value(cipher));
    if ((rc = ks_field(&cp, crypto, "crypto.cipherparams", JSON_OBJECT, false)) < 0 ||
        (rc = ks_hex(ks->iv, &len, KS_IV_SIZE, KS_IV_SIZE, cp, "crypto.cipherparams.iv")) < 0 ||
        (rc = ks_hex(ks->ciphertext, &len, CT_SECKEY_SIZE, CT_SECKEY_SIZE, crypto,
                     "crypto.ciphertext")) < 0 ||
        (rc = ks_hex(ks->mac, &len, CT_KECCAK256_SIZE, CT_KECCAK256_SIZE, crypto, "crypto.mac")) <
            0)
        return rc;
    return parse_kdf(ks, crypto);
}

/* Reads the top level: version, optional id and address, crypto. */
static int parse_top(struct ks_file *ks, const json_t *top)
{
    /* ethers and old geth wrote "Crypto". */
    bool upper = json_object_get(top, "Crypto") != NULL;
    json_t *crypto, *v;
    uint64_t version;
    int rc;

    if (!json_is_object(top))
        return ct_error_set(CT_EPARSE, "keystore: expected a JSON object");
    if (upper && json_object_get(top, "crypto") != NULL)
        return ct_error_set(CT_EPARSE, "keystore: both 'crypto' and 'Crypto' present");
    if ((rc = ks_uint(&version, top, "version")) < 0)
        return rc;
    if (version != 3)
        return ct_error_set(CT_EPARSE, "keystore: field 'version' is %llu, not 3",
                            (unsigned long long)version);
    if ((rc = ks_field(&v, top, "id", JSON_STRING, true)) < 0 && rc != CT_ENOTFOUND)
        return rc;
    rc = ks_field(&v, top, "address", JSON_STRING, true);
    if (rc < 0 && rc != CT_ENOTFOUND)
        return rc;
    ks->has_address = rc == 0;
    if (ks->has_address && ct_address_parse(&ks->address, json_string_value(v)) < 0)
        return ct_error_wrap("keystore: field 'address'");
    if ((rc = ks_field(&crypto, top, upper ? "Crypto" : "crypto", JSON_OBJECT, false)) < 0)
        return rc;
    return parse_crypto(ks, crypto);
}

static int parse_file(struct ks_file *ks, const char *json, size_t json_len)
{
    json_t *top = NULL;
    int rc;

    if (json_len > CT_KEYSTORE_MAX_SIZE)
        return ct_error_set(CT_ELIMIT, "keystore: file of %zu bytes is larger than %d", json_len,
                            CT_KEYSTORE_MAX_SIZE);
    if ((rc = ct_json_parse(&top, json, json_len, KS_MAX_JSON_DEPTH)) < 0)
        return ct_error_wrap("keystore");
    rc = parse_top(ks, top);
    json_decref(top);
    return rc;
}

/* ---------------------------------------------------------------- decrypt */

int ct_keystore_decrypt(uint8_t seckey[CT_SECKEY_SIZE], ct_address *addr, const char *json,
                        size_t json_len, const char *password, size_t password_len)
{
    struct ks_file ks;
    uint8_t dk[KS_DKLEN], mac[CT_KECCAK256_SIZE], key[CT_SECKEY_SIZE];
    ct_address a;
    int rc;

    assert(seckey != NULL && addr != NULL && json != NULL);
    assert(password != NULL || password_len == 0);
    memset(&ks, 0, sizeof(ks));
    memset(dk, 0, sizeof(dk));
    memset(key, 0, sizeof(key));
    if ((rc = parse_file(&ks, json, json_len)) < 0 ||
        (rc = derive_key(dk, &ks, password, password_len)) < 0)
        goto done;
    compute_mac(mac, dk, ks.ciphertext);
    if (CRYPTO_memcmp(mac, ks.mac, sizeof(mac)) != 0) {
        rc = ct_error_set(CT_ECRYPTO, "keystore: wrong password (MAC mismatch)");
        goto done;
    }
    if ((rc = aes_ctr(key, dk, ks.iv, ks.ciphertext, CT_SECKEY_SIZE)) < 0)
        goto done;
    if (ct_address_from_seckey(&a, key) < 0) {
        rc = ct_error_set(CT_ECRYPTO, "keystore: the decrypted secret key is invalid");
        goto done;
    }
    if (ks.has_address && !ct_address_equal(&a, &ks.address)) {
        rc = ct_error_set(CT_ECRYPTO, "keystore: field 'address' does not match the key");
        goto done;
    }
    memcpy(seckey, key, CT_SECKEY_SIZE);
    *addr = a;
done:
    ct_wipe(dk, sizeof(dk));
    ct_wipe(key, sizeof(key));
    return rc;
}

/* ---------------------------------------------------------------- encrypt */

static json_t *hex_string(const uint8_t *b, size_t n)
{
    char s[2 * KS_MAX_SALT + 1];

    if (ct_hex_encode(s, sizeof(s), b, n, false) < 0)
        return NULL;
    return json_string(s);
}

static int make_uuid(char out[KS_UUID_SIZE])
{
    uint8_t u[16];
    char hex[33];
    size_t o = 0;
    int rc = ct_random(u, sizeof(u));

    if (rc < 0)
        return rc;
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    ct_hex_encode(hex, sizeof(hex), u, sizeof(u), false);
    for (size_t i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[o] = '\0';
    return 0;
}

static json_t *kdfparams_json(const struct ks_file *ks)
{
    const ct_keystore_params *p = &ks->params;
    json_t *kp = json_object();
    int bad = kp == NULL;

    /* Keys in the order geth writes them (sorted). */
    if (!bad && p->kdf == CT_KDF_PBKDF2) {
        bad |= json_object_set_new(kp, "c", json_integer(p->pbkdf2_c));
        bad |= json_object_set_new(kp, "dklen", json_integer(KS_DKLEN));
        bad |= json_object_set_new(kp, "prf", json_string("hmac-sha256"));
    } else if (!bad) {
        bad |= json_object_set_new(kp, "dklen", json_integer(KS_DKLEN));
        bad |= json_object_set_new(kp, "n", json_integer((json_int_t)p->scrypt_n));
        bad |= json_object_set_new(kp, "p", json_integer(p->scrypt_p));
        bad |= json_object_set_new(kp, "r", json_integer(p->scrypt_r));
    }
    if (!bad)
        bad |= json_object_set_new(kp, "salt", hex_string(ks->salt, ks->salt_len));
    if (bad) {
        json_decref(kp);
        return NULL;
    }
    return kp;
}

/* Builds the document in geth's field order. */
static int build_json(char **out, const struct ks_file *ks, const char *uuid)
{
    json_t *top = json_object(), *crypto = json_object(), *cp = json_object();
    int rc, bad = top == NULL || crypto == NULL || cp == NULL;

    if (!bad) {
        bad |= json_object_set_new(cp, "iv", hex_string(ks->iv, KS_IV_SIZE));
        bad |= json_object_set_new(crypto, "cipher", json_string("aes-128-ctr"));
        bad |=
            json_object_set_new(crypto, "ciphertext", hex_string(ks->ciphertext, CT_SECKEY_SIZE));
        bad |= json_object_set(crypto, "cipherparams", cp);
        bad |= json_object_set_new(
            crypto, "kdf", json_string(ks->params.kdf == CT_KDF_PBKDF2 ? "pbkdf2" : "scrypt"));
        bad |= json_object_set_new(crypto, "kdfparams", kdfparams_json(ks));
        bad |= json_object_set_new(crypto, "mac", hex_string(ks->mac, CT_KECCAK256_SIZE));
        bad |= json_object_set_new(top, "address", hex_string(ks->address.b, CT_ADDRESS_SIZE));
        bad |= json_object_set(top, "crypto", crypto);
        bad |= json_object_set_new(top, "id", json_string(uuid));
        bad |= json_object_set_new(top, "version", json_integer(3));
    }
    rc = bad ? ct_error_set(CT_ENOMEM, "keystore: no memory for the JSON") : ct_json_dump(out, top);
    json_decref(cp);
    json_decref(crypto);
    json_decref(top);
    return rc;
}

int ct_keystore_encrypt(char **json, const uint8_t seckey[CT_SECKEY_SIZE], const char *password,
                        size_t password_len, const ct_keystore_params *params)
{
    struct ks_file ks;
    uint8_t dk[KS_DKLEN];
    char uuid[KS_UUID_SIZE];
    int rc;

    assert(json != NULL && seckey != NULL);
    assert(password != NULL || password_len == 0);
    memset(&ks, 0, sizeof(ks));
    memset(dk, 0, sizeof(dk));
    ks.params = params != NULL ? *params : CT_KEYSTORE_STANDARD;
    if (check_params(&ks.params) < 0)
        return ct_error_set(CT_EINVAL, "%s", ct_error_last()); /* same message */
    if (ct_address_from_seckey(&ks.address, seckey) < 0)
        return ct_error_set(CT_EINVAL, "keystore: invalid secret key");
    ks.salt_len = KS_SALT_SIZE;
    if ((rc = ct_random(ks.salt, KS_SALT_SIZE)) < 0 || (rc = ct_random(ks.iv, KS_IV_SIZE)) < 0 ||
        (rc = make_uuid(uuid)) < 0 || (rc = derive_key(dk, &ks, password, password_len)) < 0 ||
        (rc = aes_ctr(ks.ciphertext, dk, ks.iv, seckey, CT_SECKEY_SIZE)) < 0)
        goto done;
    compute_mac(ks.mac, dk, ks.ciphertext);
    rc = build_json(json, &ks, uuid);
done:
    ct_wipe(dk, sizeof(dk));
    return rc;
}

/* ---------------------------------------------------------------- file name */

int ct_keystore_filename(char *out, size_t size, const ct_address *addr, int64_t now_ms)
{
    char t[CT_TIME_ISO8601_SIZE], hex[2 * CT_ADDRESS_SIZE + 1];
    int rc, n;

    assert(out != NULL && addr != NULL);
    if (size < KS_FILENAME_SIZE)
        return ct_error_set(CT_ELIMIT, "keystore: file name needs %d bytes, has %zu",
                            KS_FILENAME_SIZE, size);
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ": geth writes '-' for ':' and nanoseconds. */
    if ((rc = ct_time_format(t, now_ms)) < 0)
        return rc;
    t[13] = '-';
    t[16] = '-';
    t[23] = '\0';
    ct_hex_encode(hex, sizeof(hex), addr->b, CT_ADDRESS_SIZE, false);
    n = snprintf(out, size, "UTC--%s000000Z--%s", t, hex);
    assert(n == KS_FILENAME_SIZE - 1);
    (void)n;
    return 0;
}
