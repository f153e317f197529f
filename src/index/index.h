// Umbrella header of the index module: head index (MemIndex), index files
// (IndexFileWriter/Reader) and the store of flushed files (IndexStore).
#pragma once

#include "index/chunk_ref.h"
#include "index/index_file.h"
#include "index/index_store.h"
#include "index/mem_index.h"
#include "index/postings.h"
