/* The shortest text that reads back as the same double, laid out as Python's repr(float).
 *
 * The digits come from Schubfach: Raffaello Giulietti, "The Schubfach way to render doubles"
 * (2020, revised 2021). For v = c * 2^q, the doubles that round to v fill an interval R around
 * v whose width, scaled by 10^-k for a well chosen k, lies in [1, 10). So the scaled R holds
 * at most one multiple of ten (a decimal one digit shorter) and at least one of the two
 * integers around v: the shortest decimal in R is one of four candidates, and a few integer
 * comparisons pick it. The scaling multiplies by a 126-bit approximation of 10^-k from
 * _float_table.h and keeps only a "round to odd" result, which the paper proves decides
 * every comparison as the exact product would.
 *
 * Python's repr picks the same decimal: the shortest in R, the closest to v among the
 * shortest, the even one on a tie, with R closed when c is even (David Gay's dtoa, mode 0).
 * The caller handles NaN and the infinities; everything else, -0.0 included, is written
 * here, into at most BAI_DOUBLE_CHARS bytes, without allocating.
 */
#ifndef BENCHMARKAI_FLOAT_REPR_H
#define BENCHMARKAI_FLOAT_REPR_H

#include <stdint.h>
#include <string.h>

#include "_float_table.h"

#if defined(_MSC_VER) && defined(_M_X64)
#include <intrin.h>
#endif

/* The room bai_format_double needs: its text is at most 24 bytes ("-1.2345678901234567e-308"),
 * but it may write scratch bytes after the text, within its first 34. */
#define BAI_DOUBLE_CHARS 40

static const char bai_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 bai_uint128;
#endif

/* floor(x * y / 2^64) */
static inline uint64_t bai_mul_high(uint64_t x, uint64_t y)
{
#if defined(__SIZEOF_INT128__)
    return (uint64_t)(((bai_uint128)x * y) >> 64);
#elif defined(_MSC_VER) && defined(_M_X64)
    return __umulh(x, y);
#else  /* from 32-bit halves: no partial sum below can overflow 64 bits */
    uint64_t x0 = x & 0xffffffffu, x1 = x >> 32, y0 = y & 0xffffffffu, y1 = y >> 32;
    uint64_t low = x0 * y0, mid1 = x1 * y0, mid2 = x0 * y1;
    uint64_t carry = (low >> 32) + (mid1 & 0xffffffffu) + (mid2 & 0xffffffffu);
    return x1 * y1 + (mid1 >> 32) + (mid2 >> 32) + (carry >> 32);
#endif
}

/* cp * g / 2^127 rounded to odd (the integer part, its lowest bit set if a fraction is left),
 * g = g1 * 2^63 + g0. The paper (section 9) shows that dropping the bits below 2^-63 of the
 * fraction, as done here, cannot change the result for the cp that occur (all even). */
static inline uint64_t bai_round_to_odd(uint64_t g1, uint64_t g0, uint64_t cp)
{
    uint64_t low = bai_mul_high(g0, cp);          /* g0 * cp / 2^64 */
    uint64_t middle = (g1 * cp >> 1) + low;       /* the fraction, in units of 2^-63, plus a carry */
    uint64_t integer = bai_mul_high(g1, cp) + (middle >> 63);
    return integer | ((middle & INT64_MAX) != 0);
}

/* The decimal f * 10^*exponent, f > 0, that repr would write for c * 2^q (c > 0). */
static inline uint64_t bai_shortest(uint64_t c, int q, int *exponent)
{
    uint64_t cb = c << 2;  /* the value and the ends of R, in quarters of 2^q */
    uint64_t cb_low, cb_high = cb + 2;
    uint64_t open = c & 1;  /* an odd c: the ends of R round away from v */
    uint64_t vb, vb_low, vb_high, s, t, down, up;
    const uint64_t *g;
    int k, h;
    /* The logarithms shift negative products right: every compiler we build with floors. */
    if (c != (UINT64_C(1) << 52) || q == -1074) {
        cb_low = cb - 2;
        k = (int)((q * BAI_LOG10_POW2_MUL) >> BAI_LOG_SHIFT);
    } else {  /* at a power of two the next double down is only half as far */
        cb_low = cb - 1;
        k = (int)((q * BAI_LOG10_3_4_POW2_MUL - BAI_LOG10_3_4_POW2_SUB) >> BAI_LOG_SHIFT);
    }
    h = q + (int)((-k * BAI_LOG2_POW10_MUL) >> BAI_LOG_SHIFT) + 2;  /* 2 to 5: cb << h < 2^60 */
    g = bai_g[k - BAI_K_MIN];
    /* The value and the ends of R times 10^-k, in quarters, rounded to odd. */
    vb = bai_round_to_odd(g[0], g[1], cb << h);
    vb_low = bai_round_to_odd(g[0], g[1], cb_low << h);
    vb_high = bai_round_to_odd(g[0], g[1], cb_high << h);
    s = vb >> 2;
    if (s >= 10) {
        /* A multiple of ten in R has fewer digits than the other candidates: it wins. With one
         * digit in s (only the two smallest subnormals), ten is no shorter than s. */
        down = s / 10;
        up = down + 1;
        if ((vb_low + open <= down * 40) != (up * 40 + open <= vb_high)) {
            *exponent = k + 1;
            return vb_low + open <= down * 40 ? down : up;
        }
    }
    t = s + 1;
    *exponent = k;
    if ((vb_low + open <= s << 2) != ((t << 2) + open <= vb_high))
        return vb_low + open <= s << 2 ? s : t;
    /* Both are in R: the closer to v, the even one when v is halfway. */
    if (vb < (s << 2) + 2 || (vb == (s << 2) + 2 && (s & 1) == 0))
        return s;
    return t;
}

static inline void bai_pair(char *out, uint32_t two_digits)
{
    memcpy(out, bai_pairs + 2 * two_digits, 2);
}

/* The digits of n / 10^m (eight digits: m = 6, n < 10^8; nine: m = 8, n < 10^9) come from
 * one product: y holds that quotient in fixed point with 57 fraction bits, its integer part
 * the leading digits, and each multiplication of the fraction by 100 lifts the next two into
 * the integer part (the technique of James Edward Anhalt III's integer printing, "jeaiii").
 * The multipliers round 2^57 / 10^m up; for those n the excess stays below 10^-8, too little
 * to change any digit (checked for every n too), and 100 times a fraction fits in 64 bits. */
#define BAI_FRACTION_BITS 57
#define BAI_FRACTION_MASK ((UINT64_C(1) << BAI_FRACTION_BITS) - 1)

/* The next two digits of the fraction in y. */
static inline uint64_t bai_next_pair(uint64_t y, char *out)
{
    y = (y & BAI_FRACTION_MASK) * 100;
    bai_pair(out, (uint32_t)(y >> BAI_FRACTION_BITS));
    return y;
}

/* The eight digits of n < 10^8, leading zeros included. */
static inline void bai_eight_digits(uint32_t n, char *out)
{
    uint64_t y = n * UINT64_C(144115188076);  /* ceil(2^57 / 10^6) */
    bai_pair(out, (uint32_t)(y >> BAI_FRACTION_BITS));
    y = bai_next_pair(y, out + 2);
    y = bai_next_pair(y, out + 4);
    bai_next_pair(y, out + 6);
}

/* The nine digits of n < 10^9, leading zeros included. */
static inline void bai_nine_digits(uint32_t n, char *out)
{
    uint64_t y = n * UINT64_C(1441151881);  /* ceil(2^57 / 10^8) */
    out[0] = (char)('0' + (y >> BAI_FRACTION_BITS));
    y = bai_next_pair(y, out + 1);
    y = bai_next_pair(y, out + 3);
    y = bai_next_pair(y, out + 5);
    bai_next_pair(y, out + 7);
}

static const uint64_t bai_powers_of_ten[17] = {
    UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
    UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
    UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
    UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
    UINT64_C(1000000000000000), UINT64_C(10000000000000000)};

/* Lay out f * 10^e (0 < f < 10^17) as repr does: positional from 1e-4 up to 1e16 (an integer
 * gets ".0"), else one digit, the others after a point, and a signed exponent of two digits
 * at least. Pieces are moved with copies of a fixed size, which compile to a few
 * instructions: they may write past the text, never past BAI_DOUBLE_CHARS. */
static inline int bai_layout(uint64_t f, int e, char *out)
{
    char digits[48];  /* all 17 places of f at the start; fixed-size copies read on past them */
    const char *d;
    char *p = out;
    int n = 17, point, x;
    if (f >= 100000000) {
        uint64_t high = f / 100000000;
        bai_nine_digits((uint32_t)high, digits);
        bai_eight_digits((uint32_t)(f - high * 100000000), digits + 9);
    } else {
        bai_eight_digits((uint32_t)f, digits + 9);
    }
    while (f < bai_powers_of_ten[n - 1])
        n--;
    d = digits + 17 - n;
    while (d[n - 1] == '0') {  /* trailing zeros: none in most values, and f > 0 */
        n--;
        e++;
    }
    point = e + n;  /* the value is 0.ddd * 10^point */
    if (point <= -4 || point > 16) {
        p[0] = d[0];
        p[1] = '.';
        memcpy(p + 2, d + 1, 16);
        p += n > 1 ? n + 1 : 1;
        x = point - 1;
        *p++ = 'e';
        *p++ = x < 0 ? '-' : '+';
        if (x < 0)
            x = -x;
        if (x >= 100) {
            *p++ = (char)('0' + x / 100);
            x %= 100;
        }
        bai_pair(p, (uint32_t)x);
        return (int)(p + 2 - out);
    }
    if (point <= 0) {  /* 0.000ddd */
        memcpy(p, "0.000000", 8);
        p += 2 - point;
        memcpy(p, d, 17);
        p += n;
    } else if (point < n) {  /* ddd.ddd */
        memcpy(p, d, 16);
        p[point] = '.';
        memcpy(p + point + 1, d + point, 16);
        p += n + 1;
    } else {  /* ddd000.0 */
        memcpy(p, d, 16);
        memset(p + n, '0', 16);
        p += point;
        memcpy(p, ".0", 2);
        p += 2;
    }
    return (int)(p - out);
}

/* Write repr(value) for a finite value into out (BAI_DOUBLE_CHARS bytes); return its length. */
static inline int bai_format_double(double value, char *out)
{
    uint64_t bits, c;
    int biased, q, e, sign;
    memcpy(&bits, &value, sizeof(bits));
    sign = (int)(bits >> 63);
    out[0] = '-';
    c = bits & ((UINT64_C(1) << 52) - 1);
    biased = (int)(bits >> 52) & 0x7ff;
    if (biased == 0 && c == 0) {
        memcpy(out + sign, "0.0", 3);
        return sign + 3;
    }
    if (biased == 0) {
        q = -1074;  /* subnormal */
    } else {
        c |= UINT64_C(1) << 52;
        q = biased - 1075;
    }
    if (-52 <= q && q <= 0 && (c & ((UINT64_C(1) << -q) - 1)) == 0) {
        /* An integer below 2^53 is its own shortest decimal. */
        c >>= -q;
        e = 0;
    } else {
        c = bai_shortest(c, q, &e);
    }
    return sign + bai_layout(c, e, out + sign);
}

#endif
