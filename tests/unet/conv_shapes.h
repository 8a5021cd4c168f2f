/* conv_shapes.h — the edge shapes every conv fast path is tested on (test_ops.c's f32 paths,
 * bf16/test_bf16_conv.c's bf16 kernels): 1x1 and 3x3, stride 1 and 2, zero paddings of 0, 1
 * and (0,1,0,1), maps down to 1x1, channel counts past and short of one panel and one k
 * block, batches of 1-3 and, on small maps with several k blocks, of 4-6, 4x4 maps at batch 1
 * with many k blocks and panels (conv2d_run's B packed once for all M blocks), 1x1 on maps
 * whose positions fill whole nr panels (one and several k blocks), stride 2 on maps whose
 * zero-bordered planes pack_b uses (32x32; odd sizes, odd left padding) and on one too big
 * for them (80x80), and every epilogue term (epi bits: 1 bias, 2 channel add,
 * 4 residual). */
#ifndef SCULPT_TEST_CONV_SHAPES_H
#define SCULPT_TEST_CONV_SHAPES_H

typedef struct cshape { int ic, oc, k, stride, pt, pl, pb, pr, h, w, n, epi; } cshape;

#define CONV_EDGE_SHAPES                                                                      \
    {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0},     {3, 5, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},           \
    {3, 7, 3, 1, 1, 1, 1, 1, 2, 2, 3, 7},     {5, 13, 3, 2, 0, 0, 1, 1, 8, 8, 1, 1},          \
    {5, 13, 3, 2, 1, 1, 1, 1, 7, 9, 2, 3},    {17, 9, 3, 1, 1, 1, 1, 1, 9, 11, 3, 7},         \
    {8, 6, 1, 1, 0, 0, 0, 0, 3, 5, 2, 5},     {300, 7, 3, 1, 1, 1, 1, 1, 4, 4, 1, 7},         \
    {33, 50, 3, 2, 0, 0, 1, 1, 2, 2, 2, 1},   {16, 97, 1, 1, 0, 0, 0, 0, 13, 13, 1, 1},       \
    {12, 20, 3, 1, 1, 1, 1, 1, 33, 17, 1, 7}, {40, 64, 3, 1, 1, 1, 1, 1, 12, 12, 1, 3},     \
    {64, 20, 3, 1, 1, 1, 1, 1, 4, 4, 5, 7},   {40, 13, 1, 1, 0, 0, 0, 0, 3, 3, 6, 3},         \
    {300, 7, 3, 2, 0, 0, 1, 1, 8, 8, 4, 5},   {256, 64, 3, 1, 1, 1, 1, 1, 4, 4, 1, 7},       \
    {512, 20, 3, 1, 1, 1, 1, 1, 4, 4, 1, 5},  {24, 13, 1, 1, 0, 0, 0, 0, 8, 8, 2, 7},       \
    {300, 6, 1, 1, 0, 0, 0, 0, 4, 4, 3, 3},   {20, 13, 3, 2, 0, 0, 1, 1, 32, 32, 1, 5},     \
    {6, 9, 3, 2, 1, 1, 1, 1, 15, 13, 2, 3},   {4, 5, 3, 2, 0, 0, 1, 1, 80, 80, 1, 1}

#endif
