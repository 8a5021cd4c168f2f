/* unet_spec.h — the DDPM UNet's parameter list for a config, in diffusers UNet2DModel
 * naming: the single source of truth for names and shapes, used by the converter (layout
 * checks), the weight-file reader (shape checks) and the model (weight lookup). */
#ifndef SCULPT_UNET_SPEC_H
#define SCULPT_UNET_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include "sculpt.h"

#define UNET_NAME_MAX 80

typedef struct unet_param {
    char name[UNET_NAME_MAX]; /* canonical name, e.g. "down_blocks.1.attentions.0.to_q.weight" */
    int ndim;
    int64_t shape[4];
} unet_param;

/* Check a config for internal consistency and sculpt's limits. Returns 0, or -1 with a
 * message ("block_out_channels[1] = 0 must be > 0") in err. */
int unet_config_check(const sculpt_config *c, char *err, size_t errlen);

/* Expected parameters for a valid config, in forward order. Writes at most cap entries to
 * out (out may be NULL with cap 0 to count) and returns the total count, or -1 (with err)
 * for an invalid config. */
int unet_spec_params(const sculpt_config *c, unet_param *out, int cap, char *err, size_t errlen);

/* Channels of the up path's resnet j in up block i (diffusers UpBlock2D arithmetic). */
void unet_up_resnet_channels(const sculpt_config *c, int i, int j, int *in_ch, int *skip_ch,
                             int *out_ch);

/* Fill diffusers UNet2DModel's defaults for the DDPM CIFAR-10 family. */
void unet_config_default(sculpt_config *c);

#endif
