import CSQLite
import Foundation
import OmegaCore

/// A failed SQLite operation, with the database's own message.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// Another connection held a lock longer than the busy timeout allowed.
    public var busy = false
    public init(_ message: String, busy: Bool = false) {
        self.message = message
        self.busy = busy
    }
    public var description: String { message }
}

/// The bits of SQLite's C API the ledger needs: one connection, prepared
/// statements kept for reuse (the meter writes a row per call, so preparing
/// each time would dominate), and transactions.
final class SQLiteDatabase {
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    let path: String

    init(path: String) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, db != nil else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            db = nil
            throw LedgerError("cannot open the ledger \(path): \(message)")
        }
        // Another process holding the write lock: wait for it rather than fail.
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close(db)
    }

    /// Runs one or more statements without results.
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? lastError
            sqlite3_free(error)
            throw LedgerError("ledger \(path): \(message)", busy: rc & 0xff == SQLITE_BUSY || rc & 0xff == SQLITE_LOCKED)
        }
    }

    private var lastError: String { db.map { String(cString: sqlite3_errmsg($0)) } ?? "closed" }

    /// A value bound to a `?` parameter.
    enum Binding {
        case int(Int64), double(Double), text(String), null
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let s = statements[sql] {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
            return s
        }
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &s, nil) == SQLITE_OK, let stmt = s else {
            throw LedgerError("ledger \(path): \(lastError) in \(sql.prefix(60))")
        }
        statements[sql] = stmt
        return stmt
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func bind(_ stmt: OpaquePointer, _ values: [Binding]) {
        for (i, v) in values.enumerated() {
            let n = Int32(i + 1)
            switch v {
            case .int(let x): sqlite3_bind_int64(stmt, n, x)
            case .double(let x): sqlite3_bind_double(stmt, n, x)
            case .text(let x): sqlite3_bind_text(stmt, n, x, -1, SQLiteDatabase.transient)
            case .null: sqlite3_bind_null(stmt, n)
            }
        }
    }

    /// Runs a statement that returns no rows; returns the rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [Binding] = []) throws -> Int {
        let stmt = try prepared(sql)
        bind(stmt, values)
        let rc = sqlite3_step(stmt)
        defer { sqlite3_reset(stmt) }
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw LedgerError("ledger \(path): \(lastError)", busy: rc & 0xff == SQLITE_BUSY || rc & 0xff == SQLITE_LOCKED)
        }
        return Int(sqlite3_changes(db))
    }

    /// The id of the last inserted row.
    var lastInsertID: Int64 { sqlite3_last_insert_rowid(db) }

    /// One result row, read by column index.
    struct Row {
        fileprivate let stmt: OpaquePointer
        func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
        func double(_ i: Int32) -> Double { sqlite3_column_double(stmt, i) }
        func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
        func text(_ i: Int32) -> String? {
            guard let p = sqlite3_column_text(stmt, i) else { return nil }
            return String(cString: p)
        }
    }

    /// Runs a query, calling `each` for every row.
    func query(_ sql: String, _ values: [Binding] = [], _ each: (Row) throws -> Void) throws {
        let stmt = try prepared(sql)
        bind(stmt, values)
        defer { sqlite3_reset(stmt) }
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw LedgerError("ledger \(path): \(lastError)") }
            try each(Row(stmt: stmt))
        }
    }

    /// Runs `body` in a transaction that takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-check-write inside it is atomic across
    /// processes. Rolls back when `body` throws.
    func immediateTransaction<T>(_ body: () throws -> T) throws -> T {
        try run("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
