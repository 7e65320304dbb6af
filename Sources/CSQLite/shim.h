#include <sqlite3.h>

/// Keeps the write-ahead log when the last connection closes instead of
/// checkpointing it into the database (sqlite3_db_config is variadic, which
/// Swift cannot call). Returns SQLITE_OK or an error code.
static inline int omega_sqlite_no_checkpoint_on_close(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
