/* zip.c — read-only zip over a memory buffer following PKWARE APPNOTE 6.3 (sections 4.3.x):
 * bounded EOCD search, ZIP64 locator/record/extra fields, local header checks, stored and
 * raw-deflate entries (zlib) with output bounded by the declared size, CRC-32 checks. */
#include "zip.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_Z64_LOC 0x07064b50u
#define SIG_Z64_EOCD 0x06064b50u
#define EOCD_LEN 22
#define CEN_LEN 46
#define LOC_LEN 30
/* deflate cannot expand data by more than about 1032:1 */
#define MAX_INFLATE_RATIO 1032u

void zip_close(zip_archive *z) {
    if (!z) return;
    for (size_t i = 0; i < z->n; i++) free(z->entries[i].name);
    free(z->entries);
    free(z->sorted);
    free(z->top);
    memset(z, 0, sizeof *z);
}

static int cmp_ent(const void *a, const void *b) {
    return strcmp((*(zip_entry *const *)a)->name, (*(zip_entry *const *)b)->name);
}

/* Read the ZIP64 extended information extra field (id 0x0001) for the fields that hold
 * their 0xFFFFFFFF / 0xFFFF sentinel, in the order the APPNOTE gives (4.5.3). */
static int zip64_extra(const unsigned char *x, size_t xlen, zip_entry *e, int need_size, int need_comp,
                       int need_off, char *err, size_t errlen) {
    size_t p = 0;
    while (p + 4 <= xlen) {
        unsigned id = ck__rd16(x + p), sz = ck__rd16(x + p + 2);
        if (sz > xlen - p - 4) break;
        if (id == 0x0001) {
            const unsigned char *d = x + p + 4;
            size_t q = 0;
            if (need_size) {
                if (q + 8 > sz) goto short_;
                e->size = ck__rd64(d + q);
                q += 8;
            }
            if (need_comp) {
                if (q + 8 > sz) goto short_;
                e->comp_size = ck__rd64(d + q);
                q += 8;
            }
            if (need_off) {
                if (q + 8 > sz) goto short_;
                e->local_offset = ck__rd64(d + q);
            }
            return 0;
        }
        p += 4 + sz;
    }
    if (!need_size && !need_comp && !need_off) return 0;
    ck__err(err, errlen, "zip: entry '%.200s' needs a ZIP64 extra field but has none", e->name);
    return -1;
short_:
    ck__err(err, errlen, "zip: entry '%.200s': ZIP64 extra field too short", e->name);
    return -1;
}

int zip_open(zip_archive *z, const void *buf, size_t len, char *err, size_t errlen) {
    const unsigned char *b = buf;
    memset(z, 0, sizeof *z);
    z->buf = b;
    z->len = len;
    if (len < EOCD_LEN) {
        ck__err(err, errlen, "zip: %zu bytes is too short for an end-of-central-directory record", len);
        return -1;
    }
    /* The EOCD is the last 22 bytes plus at most a 65535-byte comment. */
    size_t lo = len - EOCD_LEN > 65535 ? len - EOCD_LEN - 65535 : 0;
    size_t eocd = SIZE_MAX;
    for (size_t p = len - EOCD_LEN + 1; p-- > lo;) {
        if (ck__rd32(b + p) == SIG_EOCD && p + EOCD_LEN + ck__rd16(b + p + 20) <= len) {
            eocd = p;
            break;
        }
    }
    if (eocd == SIZE_MAX) {
        ck__err(err, errlen, "zip: no end-of-central-directory record (truncated or not a zip)");
        return -1;
    }
    const unsigned char *e = b + eocd;
    uint64_t nent = ck__rd16(e + 10), cd_size = ck__rd32(e + 12), cd_off = ck__rd32(e + 16);
    size_t cd_limit = eocd; /* the central directory ends before the (ZIP64) EOCD */
    int is64 = eocd >= 20 && ck__rd32(b + eocd - 20) == SIG_Z64_LOC;
    if (!is64 && (ck__rd16(e + 4) != 0 || ck__rd16(e + 6) != 0 || ck__rd16(e + 8) != ck__rd16(e + 10))) {
        ck__err(err, errlen, "zip: multi-disk archives are not supported");
        return -1;
    }
    if (is64) {
        const unsigned char *l = b + eocd - 20;
        uint64_t z64 = ck__rd64(l + 8);
        if (ck__rd32(l + 4) != 0 || ck__rd32(l + 16) > 1) {
            ck__err(err, errlen, "zip: multi-disk ZIP64 archives are not supported");
            return -1;
        }
        if (z64 > eocd - 20 || eocd - 20 - z64 < 56 || ck__rd32(b + z64) != SIG_Z64_EOCD) {
            ck__err(err, errlen, "zip: ZIP64 end-of-central-directory record missing at offset %llu",
                    (unsigned long long)z64);
            return -1;
        }
        const unsigned char *r = b + z64;
        if (ck__rd32(r + 16) != 0 || ck__rd32(r + 20) != 0 || ck__rd64(r + 24) != ck__rd64(r + 32)) {
            ck__err(err, errlen, "zip: multi-disk ZIP64 archives are not supported");
            return -1;
        }
        nent = ck__rd64(r + 32);
        cd_size = ck__rd64(r + 40);
        cd_off = ck__rd64(r + 48);
        cd_limit = (size_t)z64;
    }
    if (cd_off > cd_limit || cd_size > cd_limit - cd_off) {
        ck__err(err, errlen, "zip: central directory [%llu, +%llu) lies outside the archive (%zu bytes)",
                (unsigned long long)cd_off, (unsigned long long)cd_size, cd_limit);
        return -1;
    }
    if (nent > cd_size / CEN_LEN) {
        ck__err(err, errlen, "zip: %llu entries cannot fit a %llu-byte central directory",
                (unsigned long long)nent, (unsigned long long)cd_size);
        return -1;
    }
    if (nent == 0) {
        ck__err(err, errlen, "zip: archive has no entries");
        return -1;
    }
    z->entries = calloc((size_t)nent, sizeof *z->entries);
    z->sorted = malloc((size_t)nent * sizeof *z->sorted);
    if (!z->entries || !z->sorted) {
        ck__err(err, errlen, "zip: out of memory for %llu entries", (unsigned long long)nent);
        goto fail;
    }
    size_t p = (size_t)cd_off, end = (size_t)(cd_off + cd_size);
    for (uint64_t i = 0; i < nent; i++) {
        if (end - p < CEN_LEN || ck__rd32(b + p) != SIG_CENTRAL) {
            ck__err(err, errlen, "zip: central directory entry %llu is corrupt (offset %zu)",
                    (unsigned long long)i, p);
            goto fail;
        }
        const unsigned char *c = b + p;
        size_t nl = ck__rd16(c + 28), xl = ck__rd16(c + 30), cl = ck__rd16(c + 32);
        if (end - p - CEN_LEN < nl + xl + cl) {
            ck__err(err, errlen, "zip: central directory entry %llu overruns the directory", (unsigned long long)i);
            goto fail;
        }
        zip_entry *en = &z->entries[z->n];
        en->name = malloc(nl + 1);
        if (!en->name) {
            ck__err(err, errlen, "zip: out of memory");
            goto fail;
        }
        memcpy(en->name, c + CEN_LEN, nl);
        en->name[nl] = 0;
        z->n++;
        if (memchr(en->name, 0, nl)) {
            ck__err(err, errlen, "zip: entry %llu has a NUL byte in its name", (unsigned long long)i);
            goto fail;
        }
        en->flags = ck__rd16(c + 8);
        en->method = ck__rd16(c + 10);
        en->crc = ck__rd32(c + 16);
        en->comp_size = ck__rd32(c + 20);
        en->size = ck__rd32(c + 24);
        en->local_offset = ck__rd32(c + 42);
        if (zip64_extra(c + CEN_LEN + nl, xl, en, en->size == 0xFFFFFFFFu, en->comp_size == 0xFFFFFFFFu,
                        en->local_offset == 0xFFFFFFFFu, err, errlen))
            goto fail;
        p += CEN_LEN + nl + xl + cl;
    }
    for (size_t i = 0; i < z->n; i++) z->sorted[i] = &z->entries[i];
    qsort(z->sorted, z->n, sizeof *z->sorted, cmp_ent);
    for (size_t i = 1; i < z->n; i++) {
        if (strcmp(z->sorted[i - 1]->name, z->sorted[i]->name) == 0) {
            ck__err(err, errlen, "zip: duplicate entry '%.200s'", z->sorted[i]->name);
            goto fail;
        }
    }
    const char *first = z->entries[0].name, *slash = strchr(first, '/');
    size_t tl = slash ? (size_t)(slash - first) : 0;
    z->top = malloc(tl + 1);
    if (!z->top) {
        ck__err(err, errlen, "zip: out of memory");
        goto fail;
    }
    memcpy(z->top, first, tl);
    z->top[tl] = 0;
    return 0;
fail:
    zip_close(z);
    return -1;
}

const zip_entry *zip_find(const zip_archive *z, const char *name) {
    size_t lo = 0, hi = z->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(z->sorted[mid]->name, name);
        if (c == 0) return z->sorted[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static uint32_t crc_of(const unsigned char *d, uint64_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, d, k);
        d += k;
        n -= k;
    }
    return (uint32_t)c;
}

static int inflate_into(const unsigned char *src, uint64_t n, unsigned char *dst, uint64_t size,
                        const char *name, char *err, size_t errlen) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) {
        ck__err(err, errlen, "zip: entry '%.200s': inflateInit failed", name);
        return -1;
    }
    uint64_t in_left = n, out_left = size;
    int rc = Z_OK;
    s.next_out = dst;
    s.next_in = (Bytef *)(uintptr_t)src;
    for (;;) {
        if (s.avail_in == 0 && in_left) {
            s.avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            in_left -= s.avail_in;
        }
        if (s.avail_out == 0 && out_left) {
            s.avail_out = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
            out_left -= s.avail_out;
        }
        uInt ai = s.avail_in, ao = s.avail_out;
        rc = inflate(&s, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc == Z_BUF_ERROR && ai == s.avail_in && ao == s.avail_out) {
            /* no progress: out of input or output */
            break;
        }
        if (rc != Z_OK) break;
    }
    int ok = rc == Z_STREAM_END && s.avail_out == 0 && out_left == 0;
    if (!ok) {
        if (rc == Z_STREAM_END)
            ck__err(err, errlen, "zip: entry '%.200s' inflates to fewer bytes than its declared %llu", name,
                    (unsigned long long)size);
        else if (s.avail_out == 0 && out_left == 0 && rc != Z_DATA_ERROR)
            ck__err(err, errlen, "zip: entry '%.200s' inflates to more than its declared %llu bytes", name,
                    (unsigned long long)size);
        else
            ck__err(err, errlen, "zip: entry '%.200s': corrupt deflate data (%s)", name,
                    s.msg ? s.msg : "truncated");
    }
    inflateEnd(&s);
    return ok ? 0 : -1;
}

int zip_read(const zip_archive *z, const zip_entry *e, ck_file *f, const unsigned char **data,
             char *err, size_t errlen) {
    const unsigned char *b = z->buf;
    if (e->flags & 1) {
        ck__err(err, errlen, "zip: entry '%.200s' is encrypted", e->name);
        return -1;
    }
    if (e->method != 0 && e->method != 8) {
        ck__err(err, errlen, "zip: entry '%.200s' uses compression method %u (only stored and deflate)",
                e->name, e->method);
        return -1;
    }
    if (e->local_offset > z->len || z->len - e->local_offset < LOC_LEN ||
        ck__rd32(b + e->local_offset) != SIG_LOCAL) {
        ck__err(err, errlen, "zip: entry '%.200s': no local header at offset %llu", e->name,
                (unsigned long long)e->local_offset);
        return -1;
    }
    const unsigned char *l = b + e->local_offset;
    size_t nl = ck__rd16(l + 26), xl = ck__rd16(l + 28);
    size_t nlen = strlen(e->name);
    uint64_t start = e->local_offset + LOC_LEN + nl + xl;
    if (nl != nlen || start > z->len || memcmp(l + LOC_LEN, e->name, nl) != 0) {
        ck__err(err, errlen, "zip: entry '%.200s': local header name does not match the central directory",
                e->name);
        return -1;
    }
    if (ck__rd16(l + 8) != e->method) {
        ck__err(err, errlen, "zip: entry '%.200s': local and central compression methods differ", e->name);
        return -1;
    }
    if (e->comp_size > z->len - start) {
        ck__err(err, errlen, "zip: entry '%.200s': %llu bytes at offset %llu run past the archive end (%zu)",
                e->name, (unsigned long long)e->comp_size, (unsigned long long)start, z->len);
        return -1;
    }
    const unsigned char *src = b + start;
    if (e->method == 0) {
        if (e->comp_size != e->size) {
            ck__err(err, errlen, "zip: stored entry '%.200s': compressed size %llu != size %llu", e->name,
                    (unsigned long long)e->comp_size, (unsigned long long)e->size);
            return -1;
        }
        *data = src;
    } else {
        if (e->size / MAX_INFLATE_RATIO > e->comp_size + 1) {
            ck__err(err, errlen, "zip: entry '%.200s' claims %llu bytes from %llu compressed (zip bomb?)",
                    e->name, (unsigned long long)e->size, (unsigned long long)e->comp_size);
            return -1;
        }
        if (e->size > SIZE_MAX) {
            ck__err(err, errlen, "zip: entry '%.200s' too large", e->name);
            return -1;
        }
        unsigned char *dst = ck__alloc(f, (size_t)e->size, e->name, err, errlen);
        if (!dst) return -1;
        if (inflate_into(src, e->comp_size, dst, e->size, e->name, err, errlen)) return -1;
        *data = dst;
    }
    uint32_t crc = crc_of(*data, e->size);
    if (crc != e->crc) {
        ck__err(err, errlen, "zip: entry '%.200s': CRC-32 %08x does not match the recorded %08x", e->name,
                (unsigned)crc, (unsigned)e->crc);
        return -1;
    }
    return 0;
}
