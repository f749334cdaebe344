/* ISO 8601 / RFC 3339 UTC time stamps such as the seed's
 * "2018-09-11T14:46:23.470Z", in milliseconds since the Unix epoch. The
 * calendar arithmetic is done here so the result never depends on the
 * process time zone (no mktime/timegm). */
#include "catena/util.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n decimal digits at *p. Returns -1 if they are not. */
static int64_t read_digits(const char **p, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static int expect(const char **p, const char *accepted, const char *what, const char *s)
{
    for (const char *a = accepted; *a != '\0'; a++) {
        if (**p == *a) {
            (*p)++;
            return 0;
        }
    }
    return ct_error_set(CT_EPARSE, "time: expected %s at offset %td in '%.40s'", what, *p - s, s);
}

/* Parses the fraction after '.', returning milliseconds (truncated). */
static int parse_fraction(int64_t *ms, const char **p, const char *s)
{
    int n = 0;
    *ms = 0;
    while (**p >= '0' && **p <= '9') {
        if (n < 3)
            *ms = *ms * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    if (n == 0 || n > 9)
        return ct_error_set(CT_EPARSE, "time: fraction of seconds needs 1 to 9 digits in '%.40s'",
                            s);
    for (int i = n; i < 3; i++)
        *ms *= 10;
    return 0;
}

static int parse_offset(int64_t *offset_ms, const char **p, const char *s)
{
    int sign;
    int64_t oh, om;

    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *offset_ms = 0;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return ct_error_set(CT_EPARSE, "time: expected 'Z' or a UTC offset in '%.40s'", s);
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    oh = read_digits(p, 2);
    if (oh < 0 || expect(p, ":", "':' in the UTC offset", s) < 0)
        return ct_error_set(CT_EPARSE, "time: bad UTC offset in '%.40s'", s);
    om = read_digits(p, 2);
    if (om < 0 || oh > 23 || om > 59)
        return ct_error_set(CT_EPARSE, "time: bad UTC offset in '%.40s'", s);
    *offset_ms = sign * (oh * 3600 + om * 60) * 1000;
    return 0;
}

int ct_time_parse(int64_t *out_ms, const char *s)
{
    const char *p = s;
    int64_t y, mo, d, h, mi, sec, frac = 0, offset = 0;

    y = read_digits(&p, 4);
    if (y < 0 || expect(&p, "-", "'-' after the year", s) < 0)
        return ct_error_set(CT_EPARSE, "time: expected YYYY-MM-DDTHH:MM:SSZ, got '%.40s'", s);
    mo = read_digits(&p, 2);
    if (mo < 1 || mo > 12)
        return ct_error_set(CT_EPARSE, "time: bad month in '%.40s'", s);
    if (expect(&p, "-", "'-' after the month", s) < 0)
        return CT_EPARSE;
    d = read_digits(&p, 2);
    if (d < 1 || d > days_in_month(y, (int)mo))
        return ct_error_set(CT_EPARSE, "time: bad day in '%.40s'", s);
    if (expect(&p, "Tt ", "'T' after the date", s) < 0)
        return CT_EPARSE;
    h = read_digits(&p, 2);
    if (h < 0 || h > 23 || expect(&p, ":", "':' after the hour", s) < 0)
        return ct_error_set(CT_EPARSE, "time: bad hour in '%.40s'", s);
    mi = read_digits(&p, 2);
    if (mi < 0 || mi > 59 || expect(&p, ":", "':' after the minutes", s) < 0)
        return ct_error_set(CT_EPARSE, "time: bad minutes in '%.40s'", s);
    sec = read_digits(&p, 2);
    if (sec < 0 || sec > 59)
        return ct_error_set(CT_EPARSE, "time: bad seconds in '%.40s'", s);
    if (*p == '.' || *p == ',') {
        p++;
        if (parse_fraction(&frac, &p, s) < 0)
            return CT_EPARSE;
    }
    if (parse_offset(&offset, &p, s) < 0)
        return CT_EPARSE;
    if (*p != '\0')
        return ct_error_set(CT_EPARSE, "time: trailing characters in '%.40s'", s);
    *out_ms = ((days_from_civil(y, (int)mo, (int)d) * 24 + h) * 60 + mi) * 60000 + sec * 1000 +
              frac - offset;
    return 0;
}

int ct_time_format(char out[CT_TIME_ISO8601_SIZE], int64_t ms)
{
    int64_t days, rem, y;
    int m, d;

    /* Floor division so times before 1970 format correctly. */
    days = ms / 86400000;
    rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return ct_error_set(CT_ERANGE, "time: year %lld outside 0000-9999", (long long)y);
    snprintf(out, CT_TIME_ISO8601_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d,
             (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
             (int)(rem % 1000));
    return 0;
}

int64_t ct_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ct_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ct_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void ct_time_after(struct timespec *out, int clock, int64_t ms)
{
    clock_gettime((clockid_t)clock, out);
    out->tv_sec += ms / 1000;
    out->tv_nsec += (ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}
