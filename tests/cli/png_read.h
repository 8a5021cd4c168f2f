/* png_read.h — the CLI tests' one PNG reader (libpng): size, colour type, bit depth, 8-bit
 * grey/RGB pixels and the first text chunk, to check what `sample` wrote. */
#ifndef SCULPT_TEST_PNG_READ_H
#define SCULPT_TEST_PNG_READ_H

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct png_read {
    int w, h, color, depth;
    int c;                /* 3 RGB, 1 grey, 0 other (then pix is NULL) */
    unsigned char *pix;   /* [h, w, c] for 8-bit grey/RGB */
    char text_key[80];    /* first text chunk ("" if none) */
    char *text;           /* its text, never NULL after a successful read */
    int text_compression; /* PNG_TEXT_COMPRESSION_NONE (tEXt), PNG_ITXT_COMPRESSION_NONE, ... */
} png_read;

static inline void png_read_free(png_read *r) {
    free(r->pix);
    free(r->text);
    r->pix = NULL, r->text = NULL;
}

/* 0, or -1 when the file cannot be read as a PNG (nothing to free then). */
static inline int png_read_file(const char *path, png_read *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(f);
        png_read_free(out);
        return -1;
    }
    png_init_io(png, f);
    png_read_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    out->w = (int)png_get_image_width(png, info);
    out->h = (int)png_get_image_height(png, info);
    out->color = png_get_color_type(png, info);
    out->depth = png_get_bit_depth(png, info);
    out->c = out->color == PNG_COLOR_TYPE_RGB ? 3 : out->color == PNG_COLOR_TYPE_GRAY ? 1 : 0;
    if (out->c && out->depth == 8) {
        png_bytepp rows = png_get_rows(png, info);
        size_t rb = (size_t)out->w * (size_t)out->c;
        out->pix = malloc(rb * (size_t)out->h);
        for (int y = 0; out->pix && y < out->h; y++) memcpy(out->pix + (size_t)y * rb, rows[y], rb);
    }
    png_textp text;
    int nt = 0;
    size_t len = 0;
    if (png_get_text(png, info, &text, &nt) > 0 && nt > 0) {
        snprintf(out->text_key, sizeof out->text_key, "%s", text[0].key);
        len = text[0].compression > 0 ? text[0].itxt_length : text[0].text_length;
        out->text_compression = text[0].compression;
    }
    out->text = calloc(1, len + 1);
    if (out->text && len) memcpy(out->text, text[0].text, len);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return out->text ? 0 : -1;
}

#endif
