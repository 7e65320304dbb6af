import Foundation
import GRDB
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

/// The ledger's SQLite database, through GRDB: a `DatabasePool` (one writer,
/// concurrent readers on WAL snapshots) for a file, a `DatabaseQueue` for
/// `:memory:`. Statements are GRDB's cached ones (the meter writes a row per
/// call, so preparing each time would dominate).
///
/// The ledger's code is written as SQL against this small surface: `run`,
/// `query`, `execute` and `immediateTransaction`. Inside a transaction every
/// statement goes to the transaction's connection; outside one, writes take
/// the writer and reads a reader.
final class SQLiteDatabase {
    private let writer: any DatabaseWriter
    let path: String
    /// The connection of the transaction in progress (the ledger serialises
    /// its use of the database, so one at a time).
    private var current: Database?
    /// The rowid of the last insert on the writer.
    private(set) var lastInsertID: Int64 = 0

    init(path: String) throws {
        self.path = path
        var configuration = GRDB.Configuration()
        // Another process holding the write lock: wait for it rather than fail.
        configuration.busyMode = .timeout(10)
        configuration.label = "omega.ledger"
        configuration.prepareDatabase { db in
            // NORMAL: a commit is a write to the WAL (it survives the process
            // being killed); only checkpoints wait for the disk.
            try db.execute(sql: "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=8000")
        }
        do {
            writer = path == ":memory:" ? try DatabaseQueue(configuration: configuration)
                                        : try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw SQLiteDatabase.ledgerError(error, "cannot open the ledger \(path)")
        }
    }

    /// Closes the connections now (SQLite checkpoints the WAL into the file),
    /// rather than when the last reference goes: a process may exit without
    /// releasing its objects. Nothing may use the database afterwards.
    func close() throws {
        do {
            if let pool = writer as? DatabasePool {
                // Readers first: the last connection to close folds the WAL into
                // the file, and a read-only one cannot.
                pool.releaseMemory()
                try pool.close()
            } else if let queue = writer as? DatabaseQueue {
                try queue.close()
            }
        } catch {
            throw SQLiteDatabase.ledgerError(error, "cannot close the ledger \(path)")
        }
    }

    /// `LedgerError` for a GRDB error, busy when SQLite said so.
    static func ledgerError(_ error: Error, _ context: String) -> LedgerError {
        if let e = error as? LedgerError { return e }
        if let e = error as? DatabaseError {
            let code = e.resultCode
            return LedgerError("\(context): \(e.message ?? "\(code)")", busy: code == .SQLITE_BUSY || code == .SQLITE_LOCKED)
        }
        return LedgerError("\(context): \(error)")
    }

    /// `body` on the transaction's connection, else on the writer.
    private func writing<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            if let db = current { return try body(db) }
            return try writer.writeWithoutTransaction { db in try body(db) }
        } catch {
            throw SQLiteDatabase.ledgerError(error, "ledger \(path)")
        }
    }

    /// `body` on the transaction's connection, else on a reader.
    private func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            if let db = current { return try body(db) }
            return try writer.read { db in try body(db) }
        } catch {
            throw SQLiteDatabase.ledgerError(error, "ledger \(path)")
        }
    }

    /// Runs one or more statements without results.
    func execute(_ sql: String) throws {
        try writing { db in try db.execute(sql: sql) }
    }

    /// A value bound to a `?` parameter.
    enum Binding {
        case int(Int64), double(Double), text(String), null

        var databaseValue: DatabaseValue {
            switch self {
            case .int(let x): return x.databaseValue
            case .double(let x): return x.databaseValue
            case .text(let x): return x.databaseValue
            case .null: return .null
            }
        }
    }

    private static func arguments(_ values: [Binding]) -> StatementArguments {
        StatementArguments(values.map(\.databaseValue))
    }

    /// Runs a statement that returns no rows; returns the rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [Binding] = []) throws -> Int {
        try writing { db in
            let statement = try db.cachedStatement(sql: sql)
            try statement.execute(arguments: SQLiteDatabase.arguments(values))
            lastInsertID = db.lastInsertedRowID
            return db.changesCount
        }
    }

    /// One result row, read by column index. A value of another type than
    /// asked (a damaged ledger) reads as 0 or nil, never as a crash.
    struct Row {
        fileprivate let row: GRDB.Row
        private func value(_ i: Int32) -> DatabaseValue {
            Int(i) < row.count ? row[Int(i)] as DatabaseValue : .null
        }
        func int(_ i: Int32) -> Int64 {
            switch value(i).storage {
            case .int64(let x): return x
            case .double(let d): return d.isFinite ? Int64(clamping: Int(d.rounded(.towardZero))) : 0
            case .string(let s): return Int64(s) ?? 0
            default: return 0
            }
        }
        func double(_ i: Int32) -> Double {
            switch value(i).storage {
            case .int64(let x): return Double(x)
            case .double(let d): return d
            case .string(let s): return Double(s) ?? 0
            default: return 0
            }
        }
        func isNull(_ i: Int32) -> Bool { value(i).isNull }
        func text(_ i: Int32) -> String? {
            switch value(i).storage {
            case .string(let s): return s
            case .int64(let x): return String(x)
            case .double(let d): return String(d)
            case .blob(let b): return String(decoding: b, as: UTF8.self)
            case .null: return nil
            }
        }
    }

    /// Runs a query, calling `each` for every row.
    func query(_ sql: String, _ values: [Binding] = [], _ each: (Row) throws -> Void) throws {
        try reading { db in
            let rows = try GRDB.Row.fetchCursor(db.cachedStatement(sql: sql), arguments: SQLiteDatabase.arguments(values))
            while let row = try rows.next() { try each(Row(row: row)) }
        }
    }

    /// Runs `body` in a transaction that takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-check-write inside it is atomic across
    /// processes. Rolls back when `body` throws.
    func immediateTransaction<T>(_ body: () throws -> T) throws -> T {
        if current != nil { return try body() }
        var result: T?
        do {
            try writer.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    current = db
                    defer { current = nil }
                    result = try body()
                    return .commit
                }
            }
        } catch let e as LedgerError {
            throw e
        } catch let e as DatabaseError {
            throw SQLiteDatabase.ledgerError(e, "ledger \(path)")
        }
        guard let result else { throw LedgerError("ledger \(path): a transaction ended without a result") }
        return result
    }

    /// Runs the schema's migrations (see `LedgerSchema`).
    func migrate(_ migrator: DatabaseMigrator) throws {
        do {
            try migrator.migrate(writer)
        } catch {
            throw SQLiteDatabase.ledgerError(error, "ledger \(path)")
        }
    }

    /// Records of a Codable type, by the query's column names.
    func fetchAll<T: FetchableRecord>(_ type: T.Type, _ sql: String, _ values: [Binding] = []) throws -> [T] {
        try reading { db in try T.fetchAll(db.cachedStatement(sql: sql), arguments: SQLiteDatabase.arguments(values)) }
    }

    /// Runs `body` with the transaction's connection, else the writer's
    /// (records insert themselves there).
    func withWriter<T>(_ body: (Database) throws -> T) throws -> T {
        try writing(body)
    }
}
