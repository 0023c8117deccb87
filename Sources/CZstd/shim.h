// The buffer-less decompression API (ZSTD_decompressContinue) is in the
// static-linking section of zstd.h; libzstd.so exports it all the same.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
