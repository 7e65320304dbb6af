import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// One connection to a PostgreSQL server, used the way the ledger uses its
/// SQLite database: synchronous statements with `?` parameters, rows read by
/// column index, and transactions. It is the ground a PostgreSQL ledger
/// store stands on: the meter calls the ledger on the
/// interpreter's thread, so each statement waits for its answer there
/// (never on one of NIO's event loops).
final class PostgresSQL {
    /// The server, as given (`postgres://user@host:port/db`), for messages;
    /// a password in it is not repeated.
    let url: String
    private var connection: PostgresConnection
    private let configuration: PostgresConnection.Configuration
    private let logger = Logger(label: "omega.ledger.postgres")
    /// Inside `transaction` (a lost connection is not re-made there: the
    /// transaction's earlier statements went with it).
    private var inTransaction = false
    /// Closed by `close()`, not lost.
    private var closedOnPurpose = false

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`,
    /// `?sslmode=disable|prefer|require`), waiting at most `timeout` seconds.
    /// Throws `LedgerError` naming the server when it cannot be reached.
    init(url: String, timeout: Double = 10) throws {
        let configuration = try PostgresSQL.configuration(url, timeout: timeout)
        self.configuration = configuration
        self.url = PostgresSQL.redacted(url)
        connection = try PostgresSQL.connect(configuration, url: self.url, logger: logger)
    }

    private static func connect(_ configuration: PostgresConnection.Configuration, url: String,
                                logger: Logger) throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                id: 1, logger: logger).wait()
        } catch {
            throw LedgerError("cannot reach the ledger \(url): \(PostgresSQL.describe(error))")
        }
    }

    /// A connection the server or network dropped is made again before the
    /// next statement outside a transaction (a server restart costs the
    /// statements in flight, not the process's ledger).
    private func live() throws -> PostgresConnection {
        if connection.isClosed && !inTransaction && !closedOnPurpose {
            connection = try PostgresSQL.connect(configuration, url: url, logger: logger)
        }
        return connection
    }

    deinit { if !connection.isClosed { try? connection.close().wait() } }

    /// Closes the connection (later statements fail with a clear error).
    func close() {
        closedOnPurpose = true
        try? connection.close().wait()
    }

    /// The connection settings a URL asks for.
    static func configuration(_ url: String, timeout: Double) throws -> PostgresConnection.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
              let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty else {
            throw LedgerError("not a PostgreSQL URL: \(redacted(url)) (expected postgres://USER@HOST[:PORT]/DATABASE)")
        }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        let mode = parts.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresConnection.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(try .init(configuration: .makeClientConfiguration()))
        case "require": tls = .require(try .init(configuration: .makeClientConfiguration()))
        default: throw LedgerError("\(redacted(url)): sslmode must be disable, prefer or require, got \(mode)")
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: parts.port ?? 5432, username: user, password: parts.password,
            database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.connectTimeout = .milliseconds(Int64(timeout * 1000))
        return configuration
    }

    /// The URL without its password.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? url
    }

    /// What went wrong, from the server's own message when it sent one.
    static func describe(_ error: Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                let code = e.serverInfo?[.sqlState].map { " [\($0)]" } ?? ""
                return message + code
            }
            if let underlying = e.underlying { return "\(underlying)" }
            return "\(e.code)"
        }
        return "\(error)"
    }

    /// Hands each character of `sql` to `each`, saying whether it stands
    /// inside quoted text (`'…'` or `"…"`), where `?` and `;` mean nothing.
    static func scan(_ sql: String, _ each: (Character, _ quoted: Bool) -> Void) {
        var quote: Character?
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                each(c, true)
            } else {
                if c == "'" || c == "\"" { quote = c }
                each(c, quote != nil)
            }
        }
    }

    /// `?` placeholders as PostgreSQL's `$1, $2 …` (outside quoted text).
    static func numbered(_ sql: String) -> String {
        var out = ""
        var n = 0
        scan(sql) { c, quoted in
            if c == "?" && !quoted {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        return out
    }

    private func statement(_ sql: String, _ values: [SQLiteDatabase.Binding]) -> PostgresQuery {
        var binds = PostgresBindings()
        for v in values {
            switch v {
            case .int(let x): binds.append(x)
            case .double(let x): binds.append(x)
            case .text(let x): binds.append(x)
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: PostgresSQL.numbered(sql), binds: binds)
    }

    private func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        do {
            return try future.wait()
        } catch {
            throw LedgerError("ledger \(url): \(PostgresSQL.describe(error))")
        }
    }

    /// Runs statements without parameters or results (several, separated by
    /// `;`): one at a time, since a prepared statement holds only one.
    func execute(_ sql: String) throws {
        for statement in PostgresSQL.statements(sql) {
            _ = try wait(live().query(PostgresQuery(unsafeSQL: statement), logger: logger))
        }
    }

    /// The statements of a script, split at `;` outside quoted text.
    static func statements(_ sql: String) -> [String] {
        var out: [String] = []
        var current = ""
        scan(sql) { c, quoted in
            if c == ";" && !quoted {
                out.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        out.append(current)
        return out.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Runs a statement that returns no rows; returns the rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLiteDatabase.Binding] = []) throws -> Int {
        let result = try wait(live().query(statement(sql, values), logger: logger))
        return result.metadata.rows ?? 0
    }

    /// One result row, read by column index; a value of another type than
    /// asked reads as 0 or nil.
    struct Row {
        fileprivate let cells: PostgresRandomAccessRow
        private func cell(_ i: Int32) -> PostgresCell? { Int(i) < cells.count ? cells[Int(i)] : nil }
        func isNull(_ i: Int32) -> Bool { cell(i)?.bytes == nil }
        func int(_ i: Int32) -> Int64 {
            guard let c = cell(i), c.bytes != nil else { return 0 }
            if let x = try? c.decode(Int64.self) { return x }
            if let d = try? c.decode(Double.self), d.isFinite { return Int64(clamping: Int(d.rounded(.towardZero))) }
            // NUMERIC (what SUM of BIGINT gives): exact, through Decimal.
            if let n = try? c.decode(Decimal.self) { return NSDecimalNumber(decimal: n).int64Value }
            if let s = try? c.decode(String.self) { return Int64(s) ?? 0 }
            return 0
        }
        func double(_ i: Int32) -> Double {
            guard let c = cell(i), c.bytes != nil else { return 0 }
            if let d = try? c.decode(Double.self) { return d }
            if let x = try? c.decode(Int64.self) { return Double(x) }
            if let n = try? c.decode(Decimal.self) { return NSDecimalNumber(decimal: n).doubleValue }
            if let s = try? c.decode(String.self) { return Double(s) ?? 0 }
            return 0
        }
        func text(_ i: Int32) -> String? {
            guard let c = cell(i), c.bytes != nil else { return nil }
            // Numbers by their type first: a binary integer also "decodes" as a String of its raw bytes.
            switch c.dataType {
            case .int2, .int4, .int8: return String(int(i))
            case .float4, .float8, .numeric: return (try? c.decode(Decimal.self)).map { "\($0)" } ?? String(double(i))
            default: return try? c.decode(String.self)
            }
        }
    }

    /// Runs a query, calling `each` for every row.
    func query(_ sql: String, _ values: [SQLiteDatabase.Binding] = [], _ each: (Row) throws -> Void) throws {
        let result = try wait(live().query(statement(sql, values), logger: logger))
        for row in result.rows { try each(Row(cells: row.makeRandomAccess())) }
    }

    /// Runs `body` in a transaction (`BEGIN` … `COMMIT`); rolls back when it
    /// throws. What may interleave with other hosts is up to the statements
    /// inside (`SELECT … FOR UPDATE` on the counters they check).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        inTransaction = true
        defer { inTransaction = false }
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
