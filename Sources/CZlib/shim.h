// zlib, for reading gzipped tokenizer rank files (zlib1g-dev, installed by scripts/setup).
#include <zlib.h>
