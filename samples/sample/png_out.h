/* png_out.h — model output to 8-bit pixels as diffusers' numpy_to_pil converts them,
 * near-square grids, and PNG encoding (libpng) with a `parameters` text chunk. */
#ifndef SAMPLE_PNG_OUT_H
#define SAMPLE_PNG_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SAMPLE_GRID_PAD 2 /* pixels between and around grid cells (value 0) */

/* round(clamp(x/2 + 0.5, 0, 1) * 255) in float32 with round-half-to-even, as
 * `((x / 2 + 0.5).clamp(0, 1) * 255).round()` does in torch/numpy; NaN gives 0. */
uint8_t sample_quantize(float x);

/* One image x [c, s, s] (CHW, f32) to interleaved rows dst [s, s, c] at row stride
 * `stride` bytes (so it can write into a grid cell). */
void sample_quantize_image(const float *x, int c, int s, uint8_t *dst, size_t stride);

/* Grid of n cells: cols = ceil(sqrt(n)), rows = ceil(n / cols); width/height in pixels
 * for s-pixel cells with SAMPLE_GRID_PAD borders. */
void sample_grid_dims(int n, int s, int *cols, int *rows, int *width, int *height);
/* Byte offset of cell `index`'s top-left pixel in a grid `width` pixels wide, c channels. */
size_t sample_grid_cell_offset(int index, int cols, int s, int width, int c);

/* Encode pixels [h, w, c] (c = 1 grey or 3 RGB, 8 bit, rows `stride` bytes apart) as PNG
 * into f, with a text chunk key=text (tEXt when text is ASCII or not UTF-8, iTXt otherwise;
 * text may be NULL). `name` is used in messages. 0 on success; -1 and one line in err. */
int sample_png_write(FILE *f, const char *name, const uint8_t *pix, int w, int h, int c,
                     size_t stride, const char *key, const char *text, char *err, size_t errlen);

#endif
