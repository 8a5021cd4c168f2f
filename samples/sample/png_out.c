/* png_out.c — pixels as diffusers' `numpy_to_pil` makes them ((x/2+0.5).clamp(0,1), *255,
 * numpy round-half-to-even), grids laid out like torchvision's make_grid, libpng output. */
#include "png_out.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>

uint8_t sample_quantize(float x) {
    float t = x / 2.0f + 0.5f;       /* float32 as torch computes it */
    if (!(t > 0.0f)) t = 0.0f;       /* NaN and negatives */
    if (t > 1.0f) t = 1.0f;
    float v = t * 255.0f;            /* float32 multiply as numpy float32 * 255 */
    return (uint8_t)nearbyintf(v);   /* round half to even (default rounding mode) */
}

void sample_quantize_image(const float *x, int c, int s, uint8_t *dst, size_t stride) {
    size_t plane = (size_t)s * (size_t)s;
    for (int y = 0; y < s; y++) {
        uint8_t *row = dst + (size_t)y * stride;
        for (int xx = 0; xx < s; xx++)
            for (int ch = 0; ch < c; ch++)
                row[(size_t)xx * (size_t)c + (size_t)ch] =
                    sample_quantize(x[(size_t)ch * plane + (size_t)y * (size_t)s + (size_t)xx]);
    }
}

void sample_grid_dims(int n, int s, int *cols, int *rows, int *width, int *height) {
    int k = 1;
    while (k * k < n) k++;
    *cols = k;
    *rows = (n + k - 1) / k;
    *width = *cols * (s + SAMPLE_GRID_PAD) + SAMPLE_GRID_PAD;
    *height = *rows * (s + SAMPLE_GRID_PAD) + SAMPLE_GRID_PAD;
}

size_t sample_grid_cell_offset(int index, int cols, int s, int width, int c) {
    size_t x0 = (size_t)SAMPLE_GRID_PAD + (size_t)(index % cols) * (size_t)(s + SAMPLE_GRID_PAD);
    size_t y0 = (size_t)SAMPLE_GRID_PAD + (size_t)(index / cols) * (size_t)(s + SAMPLE_GRID_PAD);
    return (y0 * (size_t)width + x0) * (size_t)c;
}

typedef struct png_errctx {
    jmp_buf jb;
    char msg[200];
    int err_no; /* errno when libpng gave up (its "Write Error" comes from a failed fwrite) */
} png_errctx;

static void on_png_error(png_structp png, png_const_charp msg) {
    png_errctx *e = (png_errctx *)png_get_error_ptr(png);
    e->err_no = errno;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    longjmp(e->jb, 1);
}
static void on_png_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static int is_ascii(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 0;
    return 1;
}

/* Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). */
static int is_utf8(const char *text) {
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        unsigned c = *p, cp, min;
        int len;
        if (c < 0x80) { p++; continue; }
        if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07, min = 0x10000;
        else return 0;
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        p += len;
    }
    return 1;
}

int sample_png_write(FILE *f, const char *name, const uint8_t *pix, int w, int h, int c,
                     size_t stride, const char *key, const char *text, char *err, size_t errlen) {
    if (c != 1 && c != 3) {
        snprintf(err, errlen, "%s: PNG needs 1 or 3 channels, got %d", name, c);
        return -1;
    }
    if (w <= 0 || h <= 0 || stride < (size_t)w * (size_t)c) {
        snprintf(err, errlen, "%s: bad image size %dx%d (stride %zu)", name, w, h, stride);
        return -1;
    }
    png_errctx e;
    e.msg[0] = '\0';
    e.err_no = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_png_error, on_png_warning);
    if (!png) {
        snprintf(err, errlen, "%s: libpng could not start (out of memory)", name);
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(err, errlen, "%s: libpng could not start (out of memory)", name);
        return -1;
    }
    if (setjmp(e.jb)) {
        png_destroy_write_struct(&png, &info);
        if (ferror(f) && e.err_no)
            snprintf(err, errlen, "%s: PNG encoding failed: %s (%s)", name, e.msg, strerror(e.err_no));
        else
            snprintf(err, errlen, "%s: PNG encoding failed: %s", name, e.msg);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
                 c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_text t;
    memset(&t, 0, sizeof t);
    if (key && text) {
        t.key = (png_charp)key;
        t.text = (png_charp)text;
        /* iTXt must be UTF-8; text that is not (a file name in another encoding) goes
         * into tEXt, whose bytes readers take as Latin-1 */
        if (is_ascii(text) || !is_utf8(text)) {
            t.compression = PNG_TEXT_COMPRESSION_NONE;
            t.text_length = strlen(text);
        } else {
            t.compression = PNG_ITXT_COMPRESSION_NONE;
            t.itxt_length = strlen(text);
            t.lang = (png_charp) "";
            t.lang_key = (png_charp) "";
        }
        png_set_text(png, info, &t, 1);
    }
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(pix + (size_t)y * stride));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (fflush(f) != 0 || ferror(f)) {
        snprintf(err, errlen, "%s: write failed: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}
