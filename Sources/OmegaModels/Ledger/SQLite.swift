import CSQLite
import Foundation
import OmegaCore

/// A failed database operation, with the database's own message.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, with the database's own message.
    public var message: String
    /// Another connection held a lock longer than the busy timeout allowed.
    public var busy = false
    /// An error saying `message`.
    public init(_ message: String, busy: Bool = false) {
        self.message = message
        self.busy = busy
    }
    public var description: String { message }
}

/// The ledger's SQLite database: one connection, through SQLite's C
/// interface, in WAL mode for a file (other processes read and write the
/// same file at once; SQLite's locks keep them apart).
///
/// One connection is enough: the ledger serialises its use of the database
/// (`Ledger.locked`). It was GRDB's `DatabasePool` until issue 18: opening a
/// pool (a writer, a reader, their set-up queries) took 2.4 ms of every
/// `omega` start, a single connection 0.3 ms.
///
/// The ledger's code is written as SQL against this small surface: `run`,
/// `query`, `execute` and `immediateTransaction`. Statements are prepared
/// once and kept (the meter writes a row per call, so preparing each time
/// would dominate).
final class SQLiteDatabase {
    /// The connection; nil once closed.
    private var connection: OpaquePointer?
    let path: String
    /// Prepared statements by their SQL.
    private var statements: [String: OpaquePointer] = [:]
    /// Whether a transaction of `immediateTransaction` is open.
    private var inTransaction = false
    /// The rowid of the last insert.
    private(set) var lastInsertID: Int64 = 0

    init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        connection = handle
        guard status == SQLITE_OK, handle != nil else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            connection = nil
            throw LedgerError("cannot open the ledger \(path): \(message)", busy: status == SQLITE_BUSY)
        }
        // Another process holding the write lock: wait for it rather than fail.
        sqlite3_busy_timeout(handle, 10_000)
        do {
            if path != ":memory:" {
                // WAL: readers never block the writer, a commit is one append.
                var mode = ""
                try query("PRAGMA journal_mode=WAL") { r in mode = r.text(0) ?? "" }
                guard mode.lowercased() == "wal" else {
                    throw LedgerError("cannot open the ledger \(path): it cannot be put in WAL mode (journal mode \(mode))")
                }
            }
            // NORMAL: a commit is a write to the WAL (it survives the process
            // being killed); only checkpoints wait for the disk.
            try execute("PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=8000; PRAGMA journal_size_limit=4194304; PRAGMA foreign_keys=ON")
            if path != ":memory:" {
                // The log stays when a run closes the ledger: checkpointing
                // it into the file at every close, and making it anew at the
                // next open, waited for the disk four times a run (3 ms of
                // the 15 `omega -e 1` took). The log is as safe as the file
                // (a commit is in it before it returns); the next open reads
                // it, and a close checkpoints it once it is past
                // `logKeptAtClose` (as a writer does past wal_autocheckpoint).
                guard omega_sqlite_no_checkpoint_on_close(handle) == SQLITE_OK else {
                    throw LedgerError("cannot open the ledger \(path): cannot configure its write-ahead log")
                }
            }
        } catch {
            try? close()
            throw SQLiteDatabase.ledgerError(error, "cannot open the ledger \(path)")
        }
    }

    deinit { try? close() }

    /// The most write-ahead log a close leaves for the next open to read
    /// (about 250 pages: a fraction of a millisecond; a checkpoint every
    /// fifty or so runs).
    static let logKeptAtClose = 1 << 20

    /// Closes the connection now (folding the write-ahead log into the file
    /// only when it has grown past `logKeptAtClose`), rather than when the
    /// last reference goes: a process may exit without releasing its objects.
    /// Nothing may use the database afterwards.
    func close() throws {
        guard let db = connection else { return }
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        // The log is kept at close (see init), but the next open reads all
        // of it to rebuild its index: past `logKeptAtClose` bytes it is
        // checkpointed and cut to nothing here, without waiting for another
        // process that holds it (that one, or a later run, does it then).
        var info = stat()
        if path != ":memory:", stat(path + "-wal", &info) == 0, Int(info.st_size) > SQLiteDatabase.logKeptAtClose {
            sqlite3_busy_timeout(db, 0)
            sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nil, nil, nil)
        }
        connection = nil
        let status = sqlite3_close_v2(db)
        guard status == SQLITE_OK else {
            throw LedgerError("cannot close the ledger \(path): \(String(cString: sqlite3_errstr(status)))")
        }
    }

    /// `LedgerError` for any error (one already is stays as it is).
    static func ledgerError(_ error: Error, _ context: String) -> LedgerError {
        if let e = error as? LedgerError { return e }
        return LedgerError("\(context): \(error)")
    }

    /// The error SQLite reports for `status` on this connection.
    private func failure(_ status: Int32) -> LedgerError {
        let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "the ledger is closed"
        let primary = status & 0xff
        return LedgerError("ledger \(path): \(message)", busy: primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    }

    /// The open connection, or an error saying the ledger was closed.
    private func open() throws -> OpaquePointer {
        guard let db = connection else { throw LedgerError("ledger \(path): the ledger is closed") }
        return db
    }

    /// Runs one or more statements without parameters or results.
    func execute(_ sql: String) throws {
        let db = try open()
        let status = sqlite3_exec(db, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw failure(status) }
    }

    /// A value bound to a `?` parameter.
    enum Binding {
        case int(Int64), double(Double), text(String), null
    }

    /// SQLite copies bound text (`SQLITE_TRANSIENT`): the Swift string's
    /// bytes live only for the call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// The prepared statement for `sql`, reset and with `values` bound.
    private func prepared(_ sql: String, _ values: [Binding]) throws -> OpaquePointer {
        let db = try open()
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var made: OpaquePointer?
            let status = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &made, nil)
            guard status == SQLITE_OK, let made else { throw failure(status) }
            statements[sql] = made
            statement = made
        }
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        guard Int(sqlite3_bind_parameter_count(statement)) == values.count else {
            throw LedgerError("ledger \(path): a statement has \(sqlite3_bind_parameter_count(statement)) parameters, given \(values.count)")
        }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let status: Int32
            switch value {
            case .int(let x): status = sqlite3_bind_int64(statement, index, x)
            case .double(let x): status = sqlite3_bind_double(statement, index, x)
            case .text(let x): status = sqlite3_bind_text(statement, index, x, -1, SQLiteDatabase.transient)
            case .null: status = sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else { throw failure(status) }
        }
        return statement
    }

    /// Runs a statement that returns no rows; returns the rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [Binding] = []) throws -> Int {
        let statement = try prepared(sql, values)
        defer { sqlite3_reset(statement) }
        var status = sqlite3_step(statement)
        while status == SQLITE_ROW { status = sqlite3_step(statement) }
        guard status == SQLITE_DONE else { throw failure(status) }
        let db = try open()
        lastInsertID = sqlite3_last_insert_rowid(db)
        return Int(sqlite3_changes(db))
    }

    /// One result row, read by column index. A value of another type than
    /// asked (a damaged ledger) reads as 0 or nil, never as a crash.
    struct Row {
        fileprivate let statement: OpaquePointer
        private func type(_ i: Int32) -> Int32 {
            i >= 0 && i < sqlite3_column_count(statement) ? sqlite3_column_type(statement, i) : SQLITE_NULL
        }
        func int(_ i: Int32) -> Int64 {
            switch type(i) {
            case SQLITE_INTEGER: return sqlite3_column_int64(statement, i)
            case SQLITE_FLOAT:
                let d = sqlite3_column_double(statement, i)
                return d.isFinite ? Int64(exactly: d.rounded(.towardZero)) ?? (d < 0 ? .min : .max) : 0
            case SQLITE_TEXT: return text(i).flatMap { Int64($0) } ?? 0
            default: return 0
            }
        }
        func double(_ i: Int32) -> Double {
            switch type(i) {
            case SQLITE_INTEGER: return Double(sqlite3_column_int64(statement, i))
            case SQLITE_FLOAT: return sqlite3_column_double(statement, i)
            case SQLITE_TEXT: return text(i).flatMap { Double($0) } ?? 0
            default: return 0
            }
        }
        func isNull(_ i: Int32) -> Bool { type(i) == SQLITE_NULL }
        func text(_ i: Int32) -> String? {
            switch type(i) {
            case SQLITE_NULL: return nil
            case SQLITE_INTEGER: return String(sqlite3_column_int64(statement, i))
            case SQLITE_FLOAT: return String(sqlite3_column_double(statement, i))
            default:
                // Text and blobs alike, as UTF-8 (invalid bytes repaired).
                guard let bytes = sqlite3_column_blob(statement, i) else { return "" }
                let count = Int(sqlite3_column_bytes(statement, i))
                return String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self)
            }
        }
    }

    /// Runs a query, calling `each` for every row.
    func query(_ sql: String, _ values: [Binding] = [], _ each: (Row) throws -> Void) throws {
        let statement = try prepared(sql, values)
        defer { sqlite3_reset(statement) }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(status) }
            try each(Row(statement: statement))
        }
    }

    /// Runs `body` in a transaction that takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-check-write inside it is atomic across
    /// processes. Rolls back when `body` throws; inside a transaction,
    /// `body` simply joins it.
    func immediateTransaction<T>(_ body: () throws -> T) throws -> T {
        if inTransaction { return try body() }
        try run("BEGIN IMMEDIATE")
        inTransaction = true
        let result: T
        do {
            result = try body()
        } catch {
            inTransaction = false
            if let db = connection, sqlite3_get_autocommit(db) == 0 { _ = try? run("ROLLBACK") }
            throw error
        }
        inTransaction = false
        do {
            try run("COMMIT")
        } catch {
            if let db = connection, sqlite3_get_autocommit(db) == 0 { _ = try? run("ROLLBACK") }
            throw error
        }
        return result
    }
}
