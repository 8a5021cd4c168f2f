/* zip.h — a read-only zip reader over a memory buffer (PKWARE APPNOTE 6.3: end of central
 * directory, ZIP64 records and extra fields, stored and deflated entries, CRC-32). */
#ifndef SCULPT_ZIP_H
#define SCULPT_ZIP_H

#include "ck_internal.h"

#include <stddef.h>
#include <stdint.h>

typedef struct zip_entry {
    char *name;                  /* owned, NUL-terminated */
    uint64_t comp_size;          /* bytes of (compressed) data */
    uint64_t size;               /* uncompressed bytes */
    uint64_t local_offset;       /* local header offset */
    uint32_t crc;
    uint16_t method;             /* 0 stored, 8 deflated */
    uint16_t flags;
} zip_entry;

typedef struct zip_archive {
    const unsigned char *buf;
    size_t len;
    zip_entry *entries;          /* [n], central-directory order */
    size_t n;
    zip_entry **sorted;          /* [n] entries sorted by name (lookups) */
    char *top;                   /* first entry's folder ("archive", a file stem) or "" */
} zip_archive;

/* Parse the central directory of buf[0..len). 0, or -1 with a message. */
int zip_open(zip_archive *z, const void *buf, size_t len, char *err, size_t errlen);
void zip_close(zip_archive *z);  /* zeroed or closed is fine */
/* Entry by exact name, or NULL. */
const zip_entry *zip_find(const zip_archive *z, const char *name);
/* The entry's bytes, checked against its local header and CRC-32: stored entries point into
 * the buffer; deflated ones are inflated into a buffer owned by f (ck__alloc, bounded). */
int zip_read(const zip_archive *z, const zip_entry *e, ck_file *f, const unsigned char **data,
             char *err, size_t errlen);

#endif
