/* default_model.S — embeds twemoji/twemoji-f16.bin (found through the assembler's -I path)
 * as the built-in default model; GNU as / clang .incbin, ELF targets (x86_64, aarch64). */
#if defined(__SIZEOF_SIZE_T__) && __SIZEOF_SIZE_T__ == 8
#define SIZE_DIRECTIVE .quad
#define SIZE_ALIGN 8
#else
#define SIZE_DIRECTIVE .long
#define SIZE_ALIGN 4
#endif

    .section .rodata
    .balign 64
    .globl sculpt_default_model_data
    .type sculpt_default_model_data, %object
sculpt_default_model_data:
    .incbin "twemoji-f16.bin"
.Lsculpt_default_model_end:
    .size sculpt_default_model_data, .Lsculpt_default_model_end - sculpt_default_model_data

    .balign SIZE_ALIGN
    .globl sculpt_default_model_size
    .type sculpt_default_model_size, %object
sculpt_default_model_size:
    SIZE_DIRECTIVE .Lsculpt_default_model_end - sculpt_default_model_data
    .size sculpt_default_model_size, SIZE_ALIGN

    .globl sculpt_default_model_name
    .type sculpt_default_model_name, %object
sculpt_default_model_name:
    .asciz "twemoji-f16"
    .size sculpt_default_model_name, 12

    .section .note.GNU-stack,"",%progbits
