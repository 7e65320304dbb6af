import Foundation
import OmegaCore

/// The ledger's answers for reports (`omega tokens status|report`): sums
/// computed by the database (`LedgerReporting`), so a month of a busy
/// ledger is never read call by call.
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
        return try locked { try db.selectTotals(from: from, to: to, backends: backends) }
    }

    /// Warnings and alerts raised in a time range (for reports).
    public func alerts(from: Date, to: Date) throws -> [Alert] {
        try flush()
        return try locked { try db.selectAlerts(from: from, to: to) }
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
        try flush()
        return try locked {
            try db.selectUsageSums(from: from, to: to, by: columns, providerAnsweredOnly: providerAnsweredOnly, backends: backends)
        }
    }

    /// Successful calls in a time range that repeated an earlier request
    /// of the range exactly and were answered by the provider again (what a
    /// cache would have saved): their count and charges.
    public func repeatedRequests(from: Date, to: Date, backends: Backends = .all) throws -> Amounts {
        try flush()
        return try locked { try db.selectRepeatedRequests(from: from, to: to, backends: backends) }
    }

    /// The workflow of the latest call in a time range that had one.
    public func latestWorkflow(from: Date, to: Date) throws -> String? {
        try flush()
        return try locked { try db.selectLatestWorkflow(from: from, to: to) }
    }
}

extension Ledger: LedgerReporting {}
