/* Signing keys for the CLI's commands: a hex key or a keystore v3 file,
 * with secrets read from files or environment variables, never from argv,
 * and wiped after use. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/crypto.h"
#include "catena/util.h"

int cli_read_secret(char **out, const char *who, const char *file, const char *env)
{
    size_t len;

    if (file != NULL) {
        if (ct_file_read(out, &len, file, CT_KEYSTORE_MAX_SIZE) < 0)
            return cli_bad_input(who, NULL, "%s", ct_error_last());
        while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
            (*out)[--len] = '\0';
        return 0;
    }
    const char *v = getenv(env);
    if (v == NULL)
        return cli_bad_input(who, NULL, "environment variable %s is not set", env);
    if ((*out = strdup(v)) == NULL)
        abort(); /* the CLI may abort on allocation failure (STYLE.md) */
    return 0;
}

void cli_free_secret(char *s)
{
    if (s != NULL) {
        ct_wipe(s, strlen(s));
        free(s);
    }
}

int cli_parse_key(uint8_t key[32], const char *who, const char *text)
{
    size_t len;
    size_t n = strlen(text);

    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n'))
        n--;
    if (ct_hex_decode(key, CT_SECKEY_SIZE, &len, text, n) < 0 || len != CT_SECKEY_SIZE)
        return cli_bad_input(who, NULL, "private key must be 32 bytes of hex");
    if (ct_seckey_verify(key) < 0)
        return cli_bad_input(who, NULL, "not a valid secp256k1 private key");
    return 0;
}

int cli_load_key(uint8_t key[32], const char *who, const char *key_file, const char *key_env,
                 const char *pw_file, const char *pw_env)
{
    char *text = NULL, *pw = NULL;
    ct_address addr;
    int rc;

    if ((key_file == NULL) == (key_env == NULL))
        return cli_bad_input(who, NULL, "give exactly one of --key-file F or --key-env VAR");
    if ((rc = cli_read_secret(&text, who, key_file, key_env)) != 0)
        return rc;
    if (text[0] != '{') {
        rc = cli_parse_key(key, who, text);
        cli_free_secret(text);
        return rc;
    }
    if (pw_file == NULL && pw_env == NULL)
        rc = cli_bad_input(who, NULL, "a keystore needs --password-file F or --password-env VAR");
    else if ((rc = cli_read_secret(&pw, who, pw_file, pw_env)) == 0 &&
             ct_keystore_decrypt(key, &addr, text, strlen(text), pw, strlen(pw)) < 0)
        rc = cli_bad_input(who, NULL, "%s", ct_error_last());
    cli_free_secret(pw);
    cli_free_secret(text);
    return rc;
}
