import Foundation
import OmegaCore

/// The ledger's answers for reports (`omega tokens status|report`): sums
/// computed by SQLite, so a month of a busy ledger is never read call by call.
extension Ledger {
    /// Which calls a report counts: all, those a provider or cache answered
    /// (spending), or only the offline simulator's (dry runs).
    public enum Backends: Sendable {
        case all, real, simulated
        var clause: String {
            switch self {
            case .all: return ""
            case .real: return "AND backend != 'simulate'"
            case .simulated: return "AND backend = 'simulate'"
            }
        }
    }

    /// What the calls in a time range were charged, summed by SQLite.
    public func totals(from: Date, to: Date, backends: Backends = .all) throws -> Amounts {
        try flush()
        return try locked {
            var a = Amounts()
            try db.query("""
                SELECT COALESCE(SUM(charged_input),0), COALESCE(SUM(charged_output),0), COALESCE(SUM(charged_pd),0), COUNT(*)
                FROM calls WHERE time >= ? AND time < ? \(backends.clause)
                """, [.double(from.timeIntervalSince1970), .double(to.timeIntervalSince1970)]) { r in
                a = Amounts(inputTokens: r.int(0), outputTokens: r.int(1), picodollars: r.int(2), calls: r.int(3))
            }
            return a
        }
    }

    /// Warnings and alerts raised in a time range (for reports).
    public func alerts(from: Date, to: Date) throws -> [Alert] {
        try selectAlerts("WHERE time >= ? AND time < ? ORDER BY time",
                         [.double(from.timeIntervalSince1970), .double(to.timeIntervalSince1970)])
    }

    /// The usage of a group of calls.
    public struct UsageSum: Sendable, Equatable {
        /// The group's values of the columns asked for (nil: none recorded).
        public var keys: [String?]
        /// What the provider reported (for pricing the same tokens on another model).
        public var usage: TokenUsage
        /// What the meter charged.
        public var charged: Amounts
        /// Calls a provider answered for a model without a price: their cost
        /// is unknown, not zero.
        public var unpricedCalls: Int64 = 0
    }

    /// The columns calls can be grouped by.
    public static let groupColumns: Set<String> = ["model", "agent", "workflow", "operation", "backend", "script", "run_id"]

    /// Usage of the calls in a time range, grouped by `columns`; with
    /// `providerAnsweredOnly`, cache hits are left out.
    public func usageSums(from: Date, to: Date, by columns: [String], providerAnsweredOnly: Bool = false,
                          backends: Backends = .all) throws -> [UsageSum] {
        for c in columns where !Ledger.groupColumns.contains(c) { throw LedgerError("cannot group calls by '\(c)'") }
        try flush()
        let sums = ["SUM(input_tokens)", "SUM(output_tokens)", "SUM(cached_tokens)", "SUM(cache_write_tokens)",
                    "SUM(reasoning_tokens)", "SUM(charged_input)", "SUM(charged_output)", "SUM(charged_pd)", "COUNT(*)",
                    "SUM(CASE WHEN cost_pd IS NULL AND cache_hit = 0 AND outcome = 'ok' THEN 1 ELSE 0 END)"]
        let select = (columns + sums).joined(separator: ", ")
        let group = columns.isEmpty ? "" : "GROUP BY " + columns.joined(separator: ", ")
        return try locked {
            var result: [UsageSum] = []
            try db.query("""
                SELECT \(select) FROM calls
                WHERE time >= ? AND time < ? \(providerAnsweredOnly ? "AND cache_hit = 0" : "") \(backends.clause) \(group)
                """,
                [.double(from.timeIntervalSince1970), .double(to.timeIntervalSince1970)]) { r in
                let n = Int32(columns.count)
                result.append(UsageSum(
                    keys: (0..<n).map { r.text($0) },
                    usage: TokenUsage(inputTokens: Int(r.int(n)), outputTokens: Int(r.int(n + 1)), cacheReadTokens: Int(r.int(n + 2)),
                                      cacheWriteTokens: Int(r.int(n + 3)), reasoningTokens: Int(r.int(n + 4))),
                    charged: Amounts(inputTokens: r.int(n + 5), outputTokens: r.int(n + 6), picodollars: r.int(n + 7), calls: r.int(n + 8)),
                    unpricedCalls: r.int(n + 9)))
            }
            return result.filter { $0.charged.calls > 0 }
        }
    }

    /// Successful calls in a time range that repeated an earlier request
    /// of the range exactly and were answered by the provider again (what a
    /// cache would have saved): their count and charges.
    public func repeatedRequests(from: Date, to: Date, backends: Backends = .all) throws -> Amounts {
        try flush()
        return try locked {
            var a = Amounts()
            try db.query("""
                SELECT COUNT(*), COALESCE(SUM(ci), 0), COALESCE(SUM(co), 0), COALESCE(SUM(pd), 0) FROM (
                  SELECT charged_input AS ci, charged_output AS co, charged_pd AS pd,
                         ROW_NUMBER() OVER (PARTITION BY request_key ORDER BY id) AS n
                  FROM calls WHERE time >= ? AND time < ? AND cache_hit = 0 AND outcome = 'ok' AND request_key != '' \(backends.clause))
                WHERE n > 1
                """, [.double(from.timeIntervalSince1970), .double(to.timeIntervalSince1970)]) { r in
                a = Amounts(inputTokens: r.int(1), outputTokens: r.int(2), picodollars: r.int(3), calls: r.int(0))
            }
            return a
        }
    }

    /// The workflow of the latest call in a time range that had one.
    public func latestWorkflow(from: Date, to: Date) throws -> String? {
        try flush()
        return try locked {
            var name: String?
            try db.query("""
                SELECT workflow FROM calls WHERE time >= ? AND time < ? AND workflow IS NOT NULL ORDER BY id DESC LIMIT 1
                """, [.double(from.timeIntervalSince1970), .double(to.timeIntervalSince1970)]) { r in name = r.text(0) }
            return name
        }
    }
}
